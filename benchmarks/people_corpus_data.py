"""Hand-written tables for `people_corpus.py`: names, streets, cities, postcodes and distractors.

Every entry was typed here for this evaluation corpus, not copied from a package's name list or from the
detectors' sources. Evaluation only: never train or tune a detector on anything built from these tables.
"""

# --------------------------------------------------------------------------- names by region
# (order, given names, family names): "gf" writes the given name first, "fg" the family name first.
REGIONS = {
    "west_africa": (
        "gf",
        "Adebayo Chiamaka Oluwaseun Ngozi Emeka Folake Kwame Akosua Kofi Abena Aminata Moussa Fatou Ibrahima "
        "Yetunde Chidi Zainab Babatunde Efua Sekou",
        "Okonkwo Adeyemi Eze Obi Mensah Asante Owusu Diallo Ndiaye Sow Balogun Okafor Nwosu Bello Abubakar "
        "Boateng Traoré Coulibaly Adjei",
    ),
    "east_africa": (
        "gf",
        "Wanjiru Achieng Otieno Baraka Amani Neema Tesfaye Selam Abebe Nyokabi Halima Juma Makena Dawit",
        "Kamau Mwangi Ochieng Kiprop Njoroge Haile Tadesse Bekele Mutua Ssempala Wekesa Kariuki Nakato Lemma",
    ),
    "china": (
        "fg",
        "Wei Jing Xiaoming Yuxuan Meilin Hao Lihua Jun Zihan Xinyi Bo",
        "Zhang Wang Chen Liu Huang Zhao Xu Lin Guo Zhou Tang",
    ),
    "korea": ("fg", "Min-jun Ji-woo Seo-yeon Hyun-woo Eun-ji Do-yoon Ha-eun", "Kim Park Choi Jung Kang Yoon Han"),
    "japan": (
        "gf",
        "Haruto Yui Sakura Kenji Aoi Takeshi Naoko Ren Yuki Hiroshi Emi",
        "Sato Tanaka Watanabe Yamamoto Nakamura Kobayashi Fujimoto Ishikawa Morita Hayashi",
    ),
    "vietnam": ("fg", "Lan Minh Huong Tuan Linh Duc Thao Quang", "Nguyen Tran Pham Hoang Vo Dang Bui"),
    "thailand": (
        "gf",
        "Somchai Kanya Niran Pimchanok Anong Chaiwat",
        "Srisuk Wongsawat Chaiyaporn Rattanakorn Boonmee",
    ),
    "philippines": (
        "gf",
        "Maricel Jericho Rowena Paolo Lorna Jun-Jun Analyn",
        "Santos Reyes Villanueva Bautista Mendoza Dimaculangan|de la Cruz",
    ),
    "indonesia": ("gf", "Budi Siti Dewi Agus Rina Bayu", "Santoso Wijaya Hartono Setiawan Kusuma"),
    "south_asia": (
        "gf",
        "Priya Arjun Ananya Rohan Sunita Vikram Deepika Rahul Imran Farhan Nusrat Kavya Sanjay Tharindu Nimali "
        "Lakshmi Aditya Meera",
        "Sharma Patel Iyer Reddy Banerjee Chatterjee Nair Gupta Khan Chowdhury Hossain Perera Fernando Menon "
        "Desai Kulkarni Rahman Bhattacharya",
    ),
    "mena": (
        "gf",
        "Omar Layla Youssef Fatima Karim Nour Hassan Samira Tariq Rania Mehmet Elif Reza Shirin Khadija Anouar",
        "Al-Sayed Haddad El-Masri Khalil Mansour Benali Bouazza Nasser Farouk Al-Amin Yilmaz Demir Kaya Hosseini "
        "Tehrani Abu-Zeid|Ben Youssef",
    ),
    "east_europe": (
        "gf",
        "Tomasz Agnieszka Katarzyna Piotr Magdalena Dmitri Olena Andriy Ivana Milos Zsofia Bogdan Radek Irina "
        "Vesna Jadwiga",
        "Kowalczyk Nowak Wiśniewska Zieliński Lewandowski Petrenko Shevchenko Ivanova Horvat Novak Popescu Dvořák "
        "Kovács Jankowski Sokolov Marinescu",
    ),
    "west_europe": (
        "gf",
        "Jean-Luc Camille Mathilde Étienne Lukas Anneke Sophie Thijs Giulia Matteo Lorenzo Chiara Inès Pablo "
        "Lucía João Beatriz Siobhán Declan Niamh Maximilian Greta Joost Margarida",
        "Dubois Lefèvre Moreau Fontaine Müller Schneider Becker Hoffmann Janssen Bakker Rossi Esposito Bianchi "
        "Romano García Fernández Martínez Ortega O'Connor Murphy Walsh Silva Pereira O'Sullivan|van der Berg|"
        "de Vries|dos Santos|von Hallberg|Mac Suibhne",
    ),
    "nordic": (
        "gf",
        "Astrid Sigrid Lars Erik Ingrid Mikael Freya Oskar Aino Eero Björn Solveig",
        "Johansson Lindqvist Andersen Halvorsen Nieminen Virtanen Bergström Sigurðsson Haugland Dahl Korhonen",
    ),
    "latin_america": (
        "gf",
        "Valentina Santiago Camila Mateo Ximena Joaquín Guadalupe Luana Thiago Renata Alejandro Esperanza|María José",
        "Hernández Rodríguez Gómez Ramírez Vargas Castillo Quispe Mamani Oliveira Souza Carvalho Álvarez Pérez "
        "Ruiz-Tagle|de la Cruz|da Silva",
    ),
    "pacific": (
        "gf",
        "Sione Mele Tevita Losana Aroha Tane Malia Keala Sefo Leilani",
        "Tupou Fifita Taufa Ngata Parata Kealoha Fonoti Tuilagi Salave'a Waaka",
    ),
    "english": (
        "gf",
        "Emily James Olivia Thomas Charlotte Michael Grace Daniel Sarah William Rebecca Megan Connor Harriet",
        "Smith Thompson Clarke Harrison Bennett Foster Price Hughes Whitfield Baxter Lawson Fletcher",
    ),
}
IBERIAN = {"latin_america", "west_europe"}  # may carry two family names ("García Ortega")
VIET_MIDDLE = ["Thi", "Van", "Ngoc", "Duc", "Minh", "Thanh"]


def split_names(s: str) -> list[str]:
    """Space-separated names; a name with a space inside comes after a '|'."""
    head, *rest = s.split("|")
    return head.split() + rest


# --------------------------------------------------------------------------- addresses (number, street, city...)
US_STREETS = "Maple Avenue|Cedar Lane|West 14th Street|Lakeview Drive|Old Mill Road|Juniper Court|Harbor Boulevard|Pine Ridge Way|Sycamore Street|North Elm Terrace".split(
    "|"
)
US_CITIES = [("Columbus", "OH", "432"), ("Tucson", "AZ", "857"), ("Boise", "ID", "837"), ("Albany", "NY", "122"),
             ("Savannah", "GA", "314"), ("Madison", "WI", "537"), ("Portland", "OR", "972"), ("Des Moines", "IA", "503"),
             ("Raleigh", "NC", "276"), ("Spokane", "WA", "992")]  # fmt: skip
UK_STREETS = "Elmwood Road|Victoria Terrace|Church Lane|Albert Crescent|Mill Street|Ashgrove Gardens|Cromwell Avenue|Hawthorn Close|Queen's Drive".split(
    "|"
)
UK_CITIES = [("Leeds", "LS"), ("Bristol", "BS"), ("Norwich", "NR"), ("Cardiff", "CF"), ("Glasgow", "G"),
             ("Manchester", "M"), ("York", "YO"), ("London", "SE"), ("London", "N"), ("Sheffield", "S")]  # fmt: skip
FR_STREETS = "rue des Lilas|avenue Jean Jaurès|boulevard Voltaire|rue du Moulin|impasse des Tilleuls|place de la République|chemin des Vignes|rue Sainte-Catherine".split(
    "|"
)
FR_CITIES = [("Lyon", "690"), ("Toulouse", "310"), ("Nantes", "440"), ("Lille", "590"), ("Marseille", "130"),
             ("Bordeaux", "330"), ("Rennes", "350"), ("Strasbourg", "670")]  # fmt: skip
DE_STREETS = (
    "Lindenstraße|Goethestraße|Am Stadtpark|Bahnhofstraße|Birkenweg|Schillerplatz|Kastanienallee|Hauptstraße".split("|")
)
DE_CITIES = [("Leipzig", "04"), ("Köln", "50"), ("Hamburg", "22"), ("München", "80"), ("Freiburg im Breisgau", "79"),
             ("Bremen", "28"), ("Dresden", "01"), ("Stuttgart", "70")]  # fmt: skip
ES_STREETS = "Calle del Olmo|Avenida de la Constitución|Calle Mayor|Calle de San Bernardo|Plaza del Sol|Calle de los Almendros|Ronda de Levante".split(
    "|"
)
ES_CITIES = [("Madrid", "28"), ("Valencia", "46"), ("Sevilla", "41"), ("Bilbao", "48"), ("Zaragoza", "50"),
             ("Málaga", "29"), ("Barcelona", "08")]  # fmt: skip
IT_STREETS = "Via Garibaldi|Via dei Mille|Corso Vittorio Emanuele|Piazza della Libertà|Via San Martino|Viale dei Tigli|Vicolo del Pozzo".split(
    "|"
)
IT_CITIES = [("Bologna", "401", "BO"), ("Torino", "101", "TO"), ("Napoli", "801", "NA"), ("Firenze", "501", "FI"),
             ("Genova", "161", "GE"), ("Palermo", "901", "PA"), ("Verona", "371", "VR")]  # fmt: skip
NL_STREETS = (
    "Keizersgracht|Prinsenstraat|Lindenlaan|Molenweg|Tulpstraat|Havenkade|Kerkstraat|Burgemeester de Withstraat".split(
        "|"
    )
)
NL_CITIES = [("Amsterdam", "10"), ("Utrecht", "35"), ("Rotterdam", "30"), ("Groningen", "97"), ("Eindhoven", "56"),
             ("Den Haag", "25"), ("Leiden", "23")]  # fmt: skip
IN_BUILDINGS = "Sai Krupa Apartments|Green Meadows|Lakshmi Nivas|Sunrise Towers|Ganga Residency|Orchid Enclave".split(
    "|"
)
IN_ROADS = "12th Cross Road|MG Road|Station Road|2nd Main Road|Temple Street|100 Feet Road|Link Road".split("|")
IN_CITIES = [("Bengaluru", "Karnataka", "560", ["Indiranagar", "Jayanagar", "Malleswaram"]),
             ("Pune", "Maharashtra", "411", ["Kothrud", "Aundh", "Baner"]),
             ("Chennai", "Tamil Nadu", "600", ["Adyar", "Mylapore", "T. Nagar"]),
             ("Hyderabad", "Telangana", "500", ["Banjara Hills", "Kukatpally", "Begumpet"]),
             ("Kolkata", "West Bengal", "700", ["Salt Lake", "Ballygunge", "Behala"]),
             ("Jaipur", "Rajasthan", "302", ["Malviya Nagar", "Vaishali Nagar"]),
             ("Kochi", "Kerala", "682", ["Kakkanad", "Edappally"])]  # fmt: skip
JP_BUILDINGS = "Sakura Heights|Maison Aoyama|Corpo Midori|Green Court|Palace Kinoshita".split("|")
JP_CITIES = [("Tokyo", "Shibuya-ku", "150", ["Jingumae", "Ebisu", "Sendagaya"]),
             ("Tokyo", "Setagaya-ku", "154", ["Sangenjaya", "Taishido"]),
             ("Osaka", "Kita-ku", "530", ["Umeda", "Tenjinbashi"]), ("Kyoto", "Sakyo-ku", "606", ["Yoshida", "Shimogamo"]),
             ("Sapporo", "Chuo-ku", "060", ["Odori Nishi", "Miyanomori"]),
             ("Fukuoka", "Hakata-ku", "812", ["Hakata Ekimae", "Gionmachi"]), ("Nagoya", "Naka-ku", "460", ["Nishiki", "Sakae"])]  # fmt: skip
BR_STREETS = "Rua das Palmeiras|Avenida Brasil|Rua Sete de Setembro|Rua Tiradentes|Alameda dos Anjos|Rua do Limoeiro|Travessa da Paz".split(
    "|"
)
BR_CITIES = [("São Paulo", "SP", "05", ["Pinheiros", "Vila Mariana", "Mooca"]),
             ("Rio de Janeiro", "RJ", "22", ["Botafogo", "Tijuca", "Laranjeiras"]),
             ("Belo Horizonte", "MG", "30", ["Savassi", "Funcionários"]), ("Curitiba", "PR", "80", ["Batel", "Água Verde"]),
             ("Porto Alegre", "RS", "90", ["Moinhos de Vento", "Cidade Baixa"]), ("Recife", "PE", "52", ["Casa Forte", "Graças"]),
             ("Salvador", "BA", "40", ["Barra", "Rio Vermelho"])]  # fmt: skip
CA_STREETS = "Bayview Crescent|rue Saint-Denis|Maple Grove Drive|rue des Érables|Lakeshore Road|Birchmount Avenue|Prospect Street".split(
    "|"
)
CA_CITIES = [("Toronto", "ON", "M"), ("Ottawa", "ON", "K"), ("Montréal", "QC", "H"), ("Québec", "QC", "G"),
             ("Vancouver", "BC", "V"), ("Calgary", "AB", "T"), ("Halifax", "NS", "B"), ("Winnipeg", "MB", "R")]  # fmt: skip
AU_STREETS = "Wattle Street|Banksia Avenue|Jacaranda Drive|Station Parade|Bay Road|Kookaburra Close|Hibiscus Way".split(
    "|"
)
AU_SUBURBS = [("Fitzroy", "VIC", "3065"), ("Newtown", "NSW", "2042"), ("Fremantle", "WA", "6160"),
              ("Toowong", "QLD", "4066"), ("Glenelg", "SA", "5045"), ("Sandy Bay", "TAS", "7005"), ("Braddon", "ACT", "2612")]  # fmt: skip
PL_STREETS = (
    "ul. Ogrodowa|ul. Kwiatowa|ul. Lipowa|ul. Słoneczna|ul. Mickiewicza|al. Piłsudskiego|ul. Długa|os. Leśne".split("|")
)
PL_CITIES = [("Poznań", "61"), ("Kraków", "31"), ("Gdańsk", "80"), ("Wrocław", "50"), ("Łódź", "90"), ("Lublin", "20"),
             ("Warszawa", "02")]  # fmt: skip
NG_STREETS = "Olumide Crescent|Bankole Street|Ajao Road|Nnamdi Close|Okonjo Avenue|Babs Animashaun Street".split("|")
NG_CITIES = [("Lagos", "101", ["Victoria Island", "Ikeja GRA", "Surulere", "Yaba"]),
             ("Abuja", "900", ["Wuse II", "Garki", "Maitama"]), ("Ibadan", "200", ["Bodija", "Agodi"])]  # fmt: skip

# --------------------------------------------------------------------------- cities mentioned alone (LOCATION)
CITIES = (
    "Lisbon|Nairobi|Accra|Hanoi|Osaka|Kraków|Montevideo|Auckland|Suva|Marrakesh|Tbilisi|Bergen|Tampere|Rotterdam|"
    "Lyon|Dakar|Chennai|Cebu|Adelaide|Winnipeg|Valparaíso|Edinburgh|Cork|Thessaloniki|Kampala|Busan|Surabaya|"
    "Guadalajara|Addis Ababa|Kuala Lumpur|São Paulo|Cluj-Napoca|Aarhus|Seville|Leipzig|Halifax|Apia|Casablanca"
).split("|")

# --------------------------------------------------------------------------- distractors (never gold)
ORGS = (
    "Northwind Logistics|St. Mary's Hospital|Banco del Sur|Boston Scientific|Acme Corp|Lisbon Textiles Ltd|"
    "Riverside Dental Clinic|Kestrel Analytics|Blue Harbor Insurance|Sunrise Bakery|Vienna Philharmonic Trust|"
    "Orion Freight GmbH|Maple & Finch LLP|Helios Energy|Cape Verde Shipping|Pacific Rim Foods|Grupo Atlántico|"
    "Nordlys Software AS|Sakura Trading Co.|Jordan Valley Farms|Mercy General|Kingsbridge Academy|"
    "Lakeside Veterinary Group|Victoria Pharmacy|Hudson Bay Outfitters|Delta Air Lines"
).split("|")
DRUGS = "Metformin|Lisinopril|Atorvastatin|Amoxicillin|Omeprazole|Levothyroxine|Amlodipine|Sertraline|Warfarin|Salbutamol|Ibuprofen|Prednisolone".split(
    "|"
)
PRODUCTS = "Kindle Paperwhite|ThinkPad X1|Galaxy Tab|AirPods Pro|Nespresso Vertuo|Dyson V11|PlayStation 5|Roomba i7|Excel|QuickBooks|Outlook".split(
    "|"
)
JOBS = "Head of Finance|Chief Operating Officer|Senior Nurse|Payroll Manager|Regional Sales Director|Data Protection Officer|Office Manager|Lead Engineer|Charge Nurse|Events Coordinator".split(
    "|"
)
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = "January February March April May June July August September October November December".split()
TITLES = "Dr|Dr.|Ms|Mr|Mrs|Mr.|Ms.|Prof.|Professor".split("|")

# a template slot's name -> the list its value is drawn from
PICK = {
    "ORG": ORGS,
    "DRUG": DRUGS,
    "PROD": PRODUCTS,
    "JOB": JOBS,
    "DAY": DAYS,
    "MONTH": MONTHS,
    "TTL": TITLES,
    "CITY": CITIES,
}
