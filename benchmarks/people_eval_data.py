"""Hand-written lists for benchmarks/people_eval.py: names, places, address and phone formats, distractors and
sentence templates. Evaluation only; written independently of sani's detectors and of benchmarks/people_corpus*.

Patterns (postcodes, house and unit numbers, phones, references) use: `#` a digit, `%` a digit 1-9, `@` a capital
letter, `&` a capital letter or digit, `*` an Eircode character, `~` a letter a-d, `^` a letter A-D, `!` a literal `#`.
"""

# --------------------------------------------------------------------------- names
# f/m: given names; fam: family names for anyone, fam_f/fam_m: gendered forms; order: chance the family name comes
# first; mid_f/mid_m with mid_p: a middle name; init_p: a middle initial; double: chance of two family names.
CULTURES = {
    "anglo": dict(
        f=["Margaret", "Kayleigh", "Brooke", "Shannon", "Maddison", "Deborah", "Harriet", "Courtney"],
        m=["Trevor", "Dwayne", "Graham", "Clifford", "Wesley", "Callum", "Nigel", "Brody"],
        fam=["Thornbury", "Pickering", "Hollis", "Ashworth", "Cartwright", "Fairbanks", "Mortimer", "Halloway"]
        + ["Pennington", "Blackwood", "Rutherford-Hale"],
        mid_f=["Louise", "Jane", "Rose"],
        mid_m=["James", "Edward", "Lee"],
        mid_p=0.15,
        init_p=0.2,
    ),
    "irish_scots": dict(
        f=["Siobhán", "Aoife", "Niamh", "Orla", "Gráinne", "Saoirse"],
        m=["Cathal", "Pádraig", "Ruairí", "Dónal", "Eoghan", "Fionn"],
        fam=["McGrath", "Fitzgerald", "Breathnach", "Kavanagh", "MacLeod", "McAllister", "Mac Giolla Phádraig"],
        fam_f=["Ní Bhriain", "Nic Dhomhnaill", "Ní Cheallaigh"],
        fam_m=["Ó Súilleabháin", "Ó Ceallaigh", "Mac Cárthaigh"],
    ),
    "german": dict(
        f=["Annika", "Henrike", "Friederike", "Ulrike", "Mareike", "Lieselotte"],
        m=["Jürgen", "Lukas", "Matthias", "Tobias", "Florian", "Reinhold"],
        fam=["Schwarzkopf", "Brandauer", "Hübner", "Kessler", "Vogelsang", "Oberhuber", "Zimmerli", "Weißmann"]
        + ["von Arnim", "Gruber-Lechner"],
        init_p=0.1,
    ),
    "dutch": dict(
        f=["Femke", "Sanne", "Lieke", "Marieke", "Anouk"],
        m=["Joost", "Maarten", "Wouter", "Sjoerd", "Bram"],
        fam=["van der Berg", "de Vries", "van Dijk", "Verhoeven", "van den Broek", "Bakker", "Smits", "Van Ommeren"],
    ),
    "nordic": dict(
        f=["Sigrid", "Linnea", "Aino", "Kaisa", "Solveig", "Anna-Liisa"],
        m=["Henrik", "Björn", "Eero", "Tuomas", "Magnus", "Jukka"],
        fam=["Lindqvist", "Bergström", "Åkesson", "Virtanen", "Mäkinen", "Korhonen", "Heikkilä", "Nyström"]
        + ["Hämäläinen"],
    ),
    "baltic": dict(
        f=["Rasa", "Ieva", "Liene", "Kadri", "Eglė"],
        m=["Mindaugas", "Kristaps", "Jaan", "Aivars", "Tõnis"],
        fam=["Tamm", "Saar", "Kask"],
        fam_f=["Jankauskienė", "Ozoliņa", "Bērziņa", "Petrauskaitė"],
        fam_m=["Kazlauskas", "Bērziņš", "Kalniņš", "Vaitkus"],
    ),
    "slavic": dict(
        f=["Katarzyna", "Milena", "Olena", "Yaroslava", "Zuzana", "Jelena"],
        m=["Wojciech", "Zdeněk", "Dragan", "Bogdan", "Miroslav", "Grzegorz"],
        fam=["Dvořák", "Novaković", "Petrenko", "Horvat", "Jovanović", "Kovalenko", "Nowak-Kowalczyk"],
        fam_f=["Wiśniewska", "Szymańska", "Kuznetsova", "Nováková"],
        fam_m=["Wiśniewski", "Szymański", "Kuznetsov", "Kowalczyk"],
    ),
    "hungarian": dict(
        f=["Zsófia", "Csilla", "Réka", "Erzsébet"],
        m=["Levente", "Bence", "Gergő", "Zoltán"],
        fam=["Nagy", "Kovács", "Szabó", "Tóth", "Farkas", "Halász"],
        order=0.4,
    ),
    "greek": dict(
        f=["Eleni", "Katerina", "Despina", "Vasiliki", "Chrysoula"],
        m=["Dimitrios", "Stavros", "Panagiotis", "Thanasis", "Spyros"],
        fam=["Georgiou", "Christodoulou", "Oikonomou"],
        fam_f=["Papadopoulou", "Karagianni", "Vlachou", "Antoniadou"],
        fam_m=["Papadopoulos", "Karagiannis", "Vlachos", "Antoniadis"],
    ),
    "turkish": dict(
        f=["Elif", "Zeynep", "Selin", "Özlem", "Gülşen"],
        m=["Mehmet", "Emre", "Burak", "Yusuf", "İlker"],
        fam=["Yılmaz", "Şahin", "Demir", "Çelik", "Aydın", "Öztürk", "Karaca", "Erdoğdu", "Kılıçaslan"],
    ),
    "arabic": dict(
        f=["Layla", "Fatima", "Rania", "Huda", "Noura", "Amal"],
        m=["Omar", "Khalid", "Yousef", "Tariq", "Nasser", "Hamza"],
        fam=["Al-Haddad", "El-Sayed", "Khoury", "Al-Mansouri", "Barakat", "Nasrallah", "Abu-Zaid", "Hamdan"],
        fam_f=["bint Hamad Al-Thani", "bint Khalid"],
        fam_m=["ibn Saeed Al-Ghamdi", "bin Rashid"],
    ),
    "persian": dict(
        f=["Shirin", "Parisa", "Niloufar", "Mahsa", "Golnaz"],
        m=["Dariush", "Kian", "Farhad", "Reza", "Babak"],
        fam=["Tehrani", "Hosseini", "Farahani", "Moradi", "Rostami", "Karimzadeh", "Jafari"],
    ),
    "south_asian": dict(
        f=["Priya", "Lakshmi", "Ananya", "Farhana", "Harpreet", "Nusrat", "Dilini"],
        m=["Arjun", "Sanjay", "Rohan", "Imran", "Gurpreet", "Tanvir", "Venkatesh"],
        fam=["Raghunathan", "Deshpande", "Chatterjee", "Iyer", "Siddiqui", "Chowdhury", "Bhattacharya", "Sandhu"]
        + ["Perera", "Jayasuriya", "Rahman"],
        mid_m=["Kumar", "Singh"],
        mid_f=["Kaur", "Devi"],
        mid_p=0.2,
    ),
    "vietnamese": dict(
        f=["Mai", "Thu Trang", "Lan", "Hoa"],
        m=["Duc", "Minh Tuan", "Quang", "Hieu"],
        fam=["Nguyen", "Tran", "Pham", "Le", "Vo"],
        mid_f=["Thi", "Ngoc"],
        mid_m=["Van", "Huu"],
        mid_p=0.6,
        order=0.8,
    ),
    "thai": dict(
        f=["Siriporn", "Kanokwan", "Ploypailin"],
        m=["Somchai", "Anucha", "Thanawat"],
        fam=["Wongsakul", "Chaiyaporn", "Srisuk", "Rattanakorn"],
    ),
    "malay": dict(
        f=["Nur Aisyah", "Siti Hajar", "Farah Izzati"],
        m=["Ahmad Faizal", "Muhammad Hafiz", "Mohd Azlan"],
        fam_f=["binti Kamarudin", "binti Hassan", "binti Yusof"],
        fam_m=["bin Ismail", "bin Abdullah", "bin Osman"],
    ),
    "indonesian": dict(
        f=["Dewi", "Ratna", "Sri Wahyuni"],
        m=["Wahyu", "Budi", "Agus"],
        fam=["Santoso", "Lestari", "Hidayat", "Nugroho", "Kusuma"],
    ),
    "filipino": dict(
        f=["Maricel", "Jonalyn", "Rowena", "Kristine Joy"],
        m=["Rodel", "Arnel", "Jomar", "Rey"],
        fam=["Dimaculangan", "Macapagal", "Bautista", "Villanueva", "Pangilinan", "dela Cruz", "Sison"],
        init_p=0.5,
    ),
    "chinese": dict(
        f=["Xiaoling", "Mei-ling", "Yuxin", "Jiayi"],
        m=["Wei", "Jianguo", "Haoran", "Zhiwei", "Wei Ming"],
        fam=["Zhang", "Liu", "Chen", "Huang", "Zhou", "Guo", "Lim", "Tan", "Ng", "Goh"],
        order=0.75,
    ),
    "korean": dict(
        f=["Seo-yeon", "Hye-jin", "Eun-ji", "Min-seo"],
        m=["Ji-hoon", "Min-jun", "Dong-hyun", "Sung-min"],
        fam=["Park", "Choi", "Jeong", "Kang", "Yoon", "Han", "Baek"],
        order=0.75,
    ),
    "japanese": dict(
        f=["Yui", "Aiko", "Noriko", "Haruka"],
        m=["Haruki", "Takeshi", "Ren", "Kenji"],
        fam=["Takahashi", "Watanabe", "Yamaguchi", "Inoue", "Kobayashi", "Fujimoto", "Matsuda"],
        order=0.5,
    ),
    "nigerian": dict(
        f=["Ngozi", "Funmilayo", "Chiamaka", "Aisha", "Oluwakemi", "Blessing"],
        m=["Chinedu", "Oluwaseun", "Adebayo", "Emeka", "Babatunde", "Ibrahim"],
        fam=["Okafor", "Adeyemi", "Eze", "Oyelaran", "Nwachukwu", "Balogun", "Okonkwo", "Abubakar", "Adewale"],
        init_p=0.1,
    ),
    "ghanaian": dict(
        f=["Akosua", "Ama", "Efua", "Abena", "Adwoa"],
        m=["Kwame", "Kofi", "Yaw", "Kwabena", "Kojo"],
        fam=["Mensah", "Asante", "Boateng", "Owusu", "Agyeman", "Appiah", "Osei", "Quaye", "Ankrah"],
    ),
    "ethiopian": dict(
        f=["Tigist", "Meseret", "Selamawit", "Hirut"],
        m=["Abebe", "Dawit", "Yonas", "Bereket"],
        fam=["Tesfaye", "Haile", "Gebremariam", "Wolde", "Kebede", "Alemu", "Gebreyesus"],
    ),
    "somali": dict(
        f=["Hodan", "Faadumo", "Ayaan", "Ifrah"],
        m=["Abdirahman", "Mahad", "Liban", "Guled"],
        fam=["Warsame", "Farah", "Abdi", "Jama", "Hirsi", "Osman", "Duale"],
        mid_f=["Mohamed", "Ali", "Nur"],
        mid_m=["Mohamed", "Ali", "Nur"],
        mid_p=0.4,
    ),
    "kenyan": dict(
        f=["Wanjiru", "Achieng", "Nekesa", "Wambui"],
        m=["Otieno", "Kipchoge", "Mwangi", "Baraka"],
        fam=["Kamau", "Odhiambo", "Kiprono", "Njoroge", "Wafula", "Mutua", "Chebet"],
    ),
    "south_african": dict(
        f=["Nomvula", "Thandiwe", "Lerato", "Annelie"],
        m=["Sipho", "Bongani", "Thabo", "Pieter"],
        fam=["Dlamini", "Nkosi", "Mokoena", "Van der Merwe", "Botha", "Khumalo", "Naidoo"],
    ),
    "maori_pacific": dict(
        f=["Aroha", "Mereana", "Losana", "Mele", "Moana"],
        m=["Tane", "Wiremu", "Sione", "Tevita", "Rawiri"],
        fam=["Ngata", "Te Whata", "Parata", "Tuhiwai", "Taufa", "Fonoti", "Vaifale", "Tupou", "Te Rangi"],
    ),
    "andean": dict(
        f=["Yesenia", "Nilda", "Ruth", "Flor"],
        m=["Wilber", "Edwin", "Percy", "Nilo"],
        fam=["Quispe", "Mamani", "Huamán", "Condori", "Ccahuana", "Choque", "Apaza"],
        double=0.5,
    ),
    "mexican": dict(
        f=["Guadalupe", "Itzel", "Xóchitl", "María José"],
        m=["Jesús", "Rodrigo", "Juan Pablo", "Ulises"],
        fam=["Hernández", "Villaseñor", "Zamora", "Ocampo", "Gutiérrez", "Cervantes", "de la Garza"],
        double=0.5,
    ),
    "lusophone": dict(
        f=["Luana", "Gabriela", "Raimunda", "Inês", "Conceição"],
        m=["João", "Thiago", "Fabrício", "Rui", "Anderson"],
        fam=["dos Santos", "da Silva", "Ferreira", "Nogueira", "Cavalcanti", "Albuquerque", "de Souza", "Rocha"]
        + ["Magalhães"],
        double=0.3,
    ),
    "caribbean": dict(
        f=["Shanice", "Keisha", "Tamika", "Nadine", "Sharlene"],
        m=["Delroy", "Marlon", "Jermaine", "Ravindra", "Kerwin"],
        fam=["Brathwaite", "Gooding", "Thompson-Clarke", "Bascombe", "Seepersad", "Ramcharan", "St. Hilaire"]
        + ["Beckles", "Chin-Quee"],
        init_p=0.15,
    ),
    "italian": dict(
        f=["Francesca", "Chiara", "Giulia", "Assunta"],
        m=["Giuseppe", "Matteo", "Salvatore", "Gianluca"],
        fam=["Di Stefano", "De Luca", "Esposito", "Lo Bianco", "Mancuso", "di Lorenzo", "D'Amico"],
    ),
    "french": dict(
        f=["Aurélie", "Gaëlle", "Océane", "Marie-Claire"],
        m=["Thibault", "Jean-Baptiste", "Loïc", "Étienne"],
        fam=["Lefebvre", "Dubois-Martin", "Le Goff", "Rousseau", "Desrosiers", "Ouellet"],
    ),
    "hebrew": dict(
        f=["Noa", "Tamar", "Shira"],
        m=["Avi", "Eitan", "Yosef"],
        fam=["Ben-David", "Katz", "Mizrahi", "Goldfarb", "Rosenthal", "Peretz"],
    ),
}

NICKNAMES = {
    "Margaret": "Peggy",
    "Deborah": "Debs",
    "Callum": "Cal",
    "Katarzyna": "Kasia",
    "Wojciech": "Wojtek",
    "Grzegorz": "Grzesiek",
    "Dimitrios": "Dimitri",
    "Panagiotis": "Panos",
    "Thanasis": "Thanos",
    "Babatunde": "Tunde",
    "Oluwaseun": "Seun",
    "Oluwakemi": "Kemi",
    "Funmilayo": "Funmi",
    "Chinedu": "Nedu",
    "Chiamaka": "Chi-Chi",
    "Guadalupe": "Lupe",
    "Jesús": "Chuy",
    "María José": "Majo",
    "Juan Pablo": "JP",
    "Kwabena": "Kobby",
    "Abdirahman": "Abdi",
    "Jean-Baptiste": "JB",
    "Muhammad Hafiz": "Hafiz",
    "Nur Aisyah": "Aisyah",
    "Ahmad Faizal": "Faizal",
    "Venkatesh": "Venky",
    "Gianluca": "Luca",
    "Giuseppe": "Peppe",
    "Salvatore": "Totò",
    "Lieselotte": "Lotte",
    "Friederike": "Frieda",
    "Anna-Liisa": "Liisa",
    "Ploypailin": "Ploy",
    "Kristine Joy": "Tintin",
    "Rawiri": "Ra",
    "Yaroslava": "Slava",
    "Raimunda": "Mundinha",
    "Thompson-Clarke": "TC",
}

TITLES_F = ["Ms", "Mrs", "Ms.", "Mrs.", "Dr", "Dr.", "Prof.", "Rev.", "Miss"]
TITLES_M = ["Mr", "Mr.", "Dr", "Dr.", "Prof.", "Rev.", "Fr."]
PATRONYMIC = ("bin", "binti", "bint", "ibn")

# --------------------------------------------------------------------------- countries
# cities: (city, region or "", postcode pattern(s), suburbs); formats use {n} {st} {unit} {sub} {city} {reg}
# {_reg} (", region" or nothing) and {pc}; a format with {sub} is used only where there are suburbs.
COUNTRIES = {
    "US": dict(
        names=["USA", "United States"],
        cities=[
            ("Dayton", "OH", "454##"),
            ("Fresno", "CA", "937##"),
            ("Tulsa", "OK", "741##"),
            ("Boise", "ID", "837##"),
            ("Savannah", "GA", "314##"),
            ("Worcester", "MA", "016##"),
            ("Albuquerque", "NM", "871##"),
            ("Spokane", "WA", "992##"),
            ("Des Moines", "IA", "503##"),
            ("Chattanooga", "TN", "374##"),
            ("Duluth", "MN", "558##"),
            ("Lubbock", "TX", "794##-####"),
        ],
        streets=["Maple Street", "Cedar Ridge Drive", "Jefferson Ave", "Willow Creek Rd", "Hawthorne Lane"]
        + ["Kingsley Ct", "Lakeview Blvd", "N. Oak Street", "Pinecrest Way", "W. 34th St", "Magnolia Pl"],
        nums=["%#", "%##", "%###", "%####"],
        units=["Apt %@", "Apt %#", "Unit %#", "Suite %0#", "!%##"],
        one=[
            "{n} {st}, {city}, {reg} {pc}",
            "{n} {st} {unit}, {city}, {reg} {pc}",
            "{n} {st}, {unit}, {city} {reg} {pc}",
        ],
        multi=["{n} {st}\n{city}, {reg} {pc}", "{n} {st}, {unit}\n{city}, {reg} {pc}"],
        phones=["(%##) 555-01##", "%##-%##-####", "+1 %## 555 0###", "%##.%##.####"],
        regions=["Ohio", "New Mexico", "Iowa", "Tennessee", "Oklahoma", "Idaho"],
    ),
    "CA": dict(
        names=["Canada"],
        cities=[
            ("Winnipeg", "MB", "R3@ %@#"),
            ("Halifax", "NS", "B3@ %@#"),
            ("Saskatoon", "SK", "S7@ %@#"),
            ("Kelowna", "BC", "V1@ %@#"),
            ("Hamilton", "ON", "L8@ %@#"),
            ("Sherbrooke", "QC", "J1@ %@#"),
            ("Red Deer", "AB", "T4@ %@#"),
            ("Thunder Bay", "ON", "P7@ %@#"),
        ],
        streets=["Portage Avenue", "Spring Garden Road", "Broadway Avenue", "Bernard Avenue", "King Street East"]
        + ["rue Wellington Nord", "Gaetz Avenue", "Red River Road"],
        nums=["%#", "%##", "%###", "%####"],
        units=["%#", "%0#", "%##"],
        one=[
            "{n} {st}, {city}, {reg} {pc}",
            "{unit}-{n} {st}, {city}, {reg}  {pc}",
            "Unit {unit}, {n} {st}, {city} {reg} {pc}",
        ],
        multi=["{n} {st}\n{city} {reg}  {pc}", "{unit}-{n} {st}\n{city}, {reg} {pc}"],
        phones=["(%##) 555-01##", "%##-%##-####", "+1 %## %## ####"],
        regions=["Manitoba", "Nova Scotia", "Saskatchewan", "Alberta", "Ontario", "Okanagan"],
    ),
    "MX": dict(
        names=["México", "Mexico"],
        cities=[
            ("Guadalajara", "Jal.", "44%##"),
            ("Puebla", "Pue.", "72%##"),
            ("Mérida", "Yuc.", "97%##"),
            ("Oaxaca de Juárez", "Oax.", "68%##"),
            ("Monterrey", "N.L.", "64%##"),
            ("Ciudad de México", "CDMX", "03%##"),
            ("Querétaro", "Qro.", "76%##"),
        ],
        subs=["Col. Centro", "Col. Americana", "Col. Del Valle", "Fracc. Las Fuentes", "Col. Jardines del Bosque"]
        + ["Col. Roma Norte"],
        streets=["Calle Hidalgo", "Av. Juárez", "Calle 5 de Mayo", "Privada Los Pinos", "Blvd. Adolfo López Mateos"]
        + ["Calle 60", "Av. Revolución", "Calle Macedonio Alcalá"],
        nums=["%#", "%##", "%###"],
        units=["Int. %", "Depto. %0#", "Int. %@"],
        one=["{st} {n}, {sub}, {pc} {city}, {reg}", "{st} {n} {unit}, {sub}, C.P. {pc}, {city}, {reg}"]
        + ["{st} !{n}, {sub}, {city}, {reg}, C.P. {pc}"],
        multi=["{st} {n}, {unit}\n{sub}\n{pc} {city}, {reg}"],
        phones=["+52 %# #### ####", "%# #### ####", "(%##) ### ####"],
        regions=["Jalisco", "Yucatán", "Oaxaca", "Nuevo León", "Chiapas"],
    ),
    "IE": dict(
        names=["Ireland"],
        cities=[
            ("Ballincollig", "Co. Cork", "P31 ****"),
            ("Tralee", "Co. Kerry", "V92 ****"),
            ("Galway", "", "H91 ****"),
            ("Dublin 8", "", "D08 ****"),
            ("Letterkenny", "Co. Donegal", "F92 ****"),
            ("Ennis", "Co. Clare", "V95 ****"),
            ("Navan", "Co. Meath", "C15 ****"),
            ("Dublin 6W", "", "D6W ****"),
        ],
        streets=["Glenview Park", "Ashgrove Avenue", "Bóthar na Trá", "Church Road", "Mount Eagle Drive"]
        + ["Harcourt Terrace", "Rockfield Close", "Ardán an Rí"],
        nums=["%", "%#", "%##"],
        units=["Apt %", "Apartment %#", "Flat %"],
        one=["{n} {st}, {city}{_reg}, {pc}", "{unit}, {n} {st}, {city}{_reg}, {pc}", "{n} {st}, {city}{_reg} {pc}"],
        multi=["{n} {st}\n{city}{_reg}\n{pc}", "{unit}\n{n} {st}\n{city}\n{pc}"],
        phones=["08% ### ####", "+353 %# ### ####", "(0%#) ### ###"],
        regions=["County Kerry", "Connemara", "Donegal", "West Cork"],
    ),
    "GB": dict(
        names=["United Kingdom", "UK"],
        cities=[
            ("Leeds", "", "LS% %@@", ["Headingley", "Chapel Allerton"]),
            ("Bristol", "", "BS% %@@", ["Bedminster", "Easton"]),
            ("Norwich", "", "NR% %@@"),
            ("Swansea", "", "SA% %@@", ["Sketty"]),
            ("Aberdeen", "", "AB%# %@@"),
            ("Belfast", "", "BT% %@@"),
            ("Manchester", "", "M%# %@@", ["Didsbury", "Levenshulme"]),
            ("Chesterfield", "Derbyshire", "S4% %@@"),
            ("Plymouth", "", "PL% %@@"),
            ("Inverness", "", "IV% %@@"),
        ],
        streets=["Mill Lane", "Kirkgate", "Albion Terrace", "Coronation Road", "Wellington Crescent"]
        + ["Holloway Close", "Tannery Row", "St Mary's Walk", "Beech Grove"],
        nums=["%", "%#", "%##"],
        units=["Flat %", "Flat %@", "Flat %#"],
        one=["{n} {st}, {city} {pc}", "{unit}, {n} {st}, {city} {pc}", "{n} {st}, {sub}, {city}, {pc}"]
        + ["{n} {st}, {city}{_reg} {pc}"],
        multi=["{unit}\n{n} {st}\n{city}\n{pc}", "{n} {st}\n{sub}\n{city}\n{pc}", "{n} {st}\n{city} {pc}"],
        phones=["07%## ######", "+44 20 7946 0###", "0161 496 0###", "01%## ######"],
        regions=["Yorkshire", "Cornwall", "Derbyshire", "Pembrokeshire"],
    ),
    "DE": dict(
        names=["Germany", "Deutschland"],
        cities=[
            ("Leipzig", "", "041##"),
            ("Freiburg im Breisgau", "", "791##"),
            ("Bochum", "", "447##"),
            ("Rostock", "", "180##"),
            ("Würzburg", "", "970##"),
            ("Kassel", "", "341##"),
            ("Regensburg", "", "930##"),
            ("Berlin", "", "10%##"),
        ],
        streets=["Lindenstraße", "Am Kirchberg", "Goethestr.", "Friedrich-Ebert-Allee", "Hauptstraße"]
        + ["Gartenweg", "Schillerplatz", "Mühlenstraße", "Karl-Liebknecht-Str."],
        nums=["%", "%#", "%~", "%#~"],
        units=["%. OG links", "Hinterhaus", "Whg. %#", "%. OG"],
        one=["{st} {n}, {pc} {city}", "{st} {n}, {unit}, {pc} {city}", "{st} {n}, D-{pc} {city}"],
        multi=["{st} {n}\n{pc} {city}", "{st} {n}\n{unit}\n{pc} {city}"],
        phones=["0%## ######", "+49 %## #######", "01%# #######", "0%## %####-##"],
        regions=["Bavaria", "Saxony", "Thuringia", "Mecklenburg"],
    ),
    "AT": dict(
        names=["Austria", "Österreich"],
        cities=[
            ("Wien", "", ["1070", "1150", "1020", "1100", "1180"]),
            ("Graz", "", "80%0"),
            ("Linz", "", "40%0"),
            ("Innsbruck", "", "60%0"),
            ("Salzburg", "", "50%0"),
            ("Klagenfurt", "", "90%0"),
        ],
        streets=["Mariahilfer Straße", "Herrengasse", "Landstraßer Hauptstraße", "Maria-Theresien-Straße"]
        + ["Schmiedgasse", "Linzer Gasse", "Annenstraße"],
        nums=["%#/%/%#", "%#/%#", "%", "%#"],
        units=["Top %#", "Stiege %"],
        one=["{st} {n}, {pc} {city}", "{st} {n}, A-{pc} {city}", "{st} {n}, {unit}, {pc} {city}"],
        multi=["{st} {n}\n{pc} {city}"],
        phones=["+43 1 ### ####", "06%# ### ## ##", "0316 ### ###", "+43 662 ######"],
        regions=["Tyrol", "Carinthia", "Styria", "Vorarlberg"],
    ),
    "CH": dict(
        names=["Switzerland", "Schweiz", "Suisse"],
        cities=[
            ("Zürich", "", "80%#"),
            ("Bern", "", "30%#"),
            ("Genève", "", "120%"),
            ("Lausanne", "", "100%"),
            ("Lugano", "", "690%"),
            ("Basel", "", "40%#"),
            ("Winterthur", "", "84%#"),
            ("St. Gallen", "", "90%#"),
        ],
        streets=["Bahnhofstrasse", "Rue du Midi", "Via Nassa", "Seefeldstrasse", "Chemin des Vignes", "Spalenberg"]
        + ["Avenue de la Gare", "Kramgasse"],
        nums=["%", "%#", "%##", "%~"],
        units=["%. Stock", "Wohnung %#"],
        one=["{st} {n}, {pc} {city}", "{st} {n}, CH-{pc} {city}", "{st} {n}, {unit}, {pc} {city}"],
        multi=["{st} {n}\n{pc} {city}", "{st} {n}\n{unit}\n{pc} {city}"],
        phones=["044 ### ## ##", "+41 7% ### ## ##", "0%# ### ## ##", "+41 22 ### ## ##"],
        regions=["Ticino", "Valais", "Graubünden"],
    ),
    "SE": dict(
        names=["Sweden", "Sverige"],
        cities=[
            ("Umeå", "", "903 %#"),
            ("Göteborg", "", "41% %#"),
            ("Malmö", "", "21% %#"),
            ("Uppsala", "", "75% %#"),
            ("Luleå", "", "97% %#"),
            ("Stockholm", "", "11% %#"),
        ],
        streets=["Storgatan", "Kungsgatan", "Drottninggatan", "Västra Hamngatan", "Björkvägen", "Skolgränd"]
        + ["Fjällgatan"],
        nums=["%", "%#", "%# ^", "% ^"],
        units=["lgh 1%0#", "lgh 1%##", "2 tr"],
        one=["{st} {n}, {pc} {city}", "{st} {n}, {unit}, {pc} {city}", "{st} {n}, SE-{pc} {city}"],
        multi=["{st} {n}\n{pc} {city}", "{st} {n}, {unit}\n{pc}  {city}"],
        phones=["070-### ## ##", "08-### ### ##", "+46 %# ### ## ##", "073-### ## ##"],
        regions=["Skåne", "Norrland", "Lapland", "Gotland"],
    ),
    "PT": dict(
        names=["Portugal"],
        cities=[
            ("Porto", "", "40%0-%##"),
            ("Lisboa", "", "1%00-%##"),
            ("Braga", "", "470%-%##"),
            ("Coimbra", "", "30%0-%##"),
            ("Faro", "", "800%-%##"),
            ("Aveiro", "", "381%-%##"),
        ],
        streets=["Rua da Boavista", "Avenida da Liberdade", "Travessa do Carmo", "Largo de São Domingos"]
        + ["Rua Dr. António José de Almeida", "Rua de Santa Catarina", "Avenida 25 de Abril"],
        nums=["%", "%#", "%##"],
        units=["%.º Esq.", "%.º Dto.", "r/c", "%.º andar"],
        one=["{st}, {n}, {pc} {city}", "{st} {n}, {unit}, {pc} {city}", "{st}, n.º {n}, {unit}, {pc} {city}"],
        multi=["{st}, {n} {unit}\n{pc} {city}"],
        phones=["+351 9%# ### ###", "22 ### ####", "21 ### ####", "9%# ### ###"],
        regions=["Algarve", "Alentejo", "Madeira", "Azores"],
    ),
    "GR": dict(
        names=["Greece", "Ellada"],
        cities=[
            ("Athina", "", "1%# ##"),
            ("Thessaloniki", "", "54% ##"),
            ("Patra", "", "26% ##"),
            ("Irakleio", "", "71% ##"),
            ("Larisa", "", "41% ##"),
            ("Volos", "", "38% ##"),
        ],
        streets=["Ermou", "Patision", "Leoforos Alexandras", "Tsimiski", "Agiou Nikolaou", "Vasilissis Olgas"]
        + ["Egnatias", "Kolokotroni"],
        nums=["%", "%#", "%##"],
        units=["%os orofos", "Diam. %"],
        one=["{st} {n}, {pc} {city}", "{st} {n}, {unit}, {pc} {city}", "Odos {st} {n}, {pc} {city}"],
        multi=["{st} {n}\n{pc} {city}", "Odos {st} {n}, {unit}\n{pc} {city}"],
        phones=["210 ### ####", "+30 69% ### ####", "2310 ######", "69% ### ####"],
        regions=["Crete", "Corfu", "Peloponnese", "Thessaly"],
    ),
    "TR": dict(
        names=["Türkiye", "Turkey"],
        cities=[
            ("Ankara", "Çankaya", "06%##"),
            ("İstanbul", "Kadıköy", "347##"),
            ("İzmir", "Konak", "352##"),
            ("Bursa", "Nilüfer", "16%##"),
            ("Antalya", "Muratpaşa", "07%##"),
            ("Eskişehir", "Tepebaşı", "26%##"),
        ],
        subs=["Kızılay Mah.", "Caferağa Mah.", "Alsancak Mah.", "Fatih Mah.", "Cumhuriyet Mah.", "Yenişehir Mah."],
        streets=["Atatürk Bulvarı", "Moda Cad.", "Gül Sokak", "Cumhuriyet Cad.", "İnönü Sk.", "Ihlamur Sokak"],
        nums=["%", "%#", "%##"],
        units=["%", "%#"],
        one=["{sub} {st} No: {n} D: {unit}, {pc} {reg}/{city}", "{st} No:{n}, {sub}, {pc} {reg}/{city}"]
        + ["{sub} {st} No:{n}/{unit} {reg} {city}"],
        multi=["{sub} {st}\nNo: {n} Daire: {unit}\n{pc} {reg}/{city}"],
        phones=["05%# ### ## ##", "+90 %## ### ## ##", "(0%##) ### ## ##"],
        regions=["Cappadocia", "Anatolia", "Trabzon", "Thrace"],
    ),
    "ZA": dict(
        names=["South Africa"],
        cities=[
            ("Cape Town", "", "79%#", ["Observatory", "Woodstock", "Rondebosch"]),
            ("Durban", "", "40%#", ["Morningside", "Berea"]),
            ("Johannesburg", "", "2%9#", ["Melville", "Yeoville"]),
            ("Pretoria", "", "00%#", ["Hatfield", "Arcadia"]),
            ("Gqeberha", "", "60%#", ["Walmer"]),
            ("Bloemfontein", "", "93%#", ["Westdene"]),
        ],
        streets=["Jacaranda Street", "Long Street", "Florida Road", "Main Road", "Voortrekker Road"]
        + ["Nelson Mandela Drive", "Protea Crescent", "7th Avenue"],
        nums=["%", "%#", "%##"],
        units=["Unit %#", "Flat %0%", "%# Sunbird Court", "Unit % Protea Gardens"],
        one=["{n} {st}, {sub}, {city}, {pc}", "{unit}, {n} {st}, {sub}, {city}, {pc}", "{n} {st}, {sub}, {city} {pc}"],
        multi=["{n} {st}\n{sub}\n{city}\n{pc}", "{unit}\n{n} {st}\n{sub}, {city}\n{pc}"],
        phones=["08% ### ####", "+27 %# ### ####", "0%# ### ####", "07% ### ####"],
        regions=["KwaZulu-Natal", "Western Cape", "Limpopo", "Gauteng"],
    ),
    "KE": dict(
        names=["Kenya"],
        cities=[
            ("Nairobi", "", "00100", ["Kilimani", "Westlands", "Lavington", "South B"]),
            ("Mombasa", "", "80100", ["Nyali", "Tudor"]),
            ("Kisumu", "", "40100", ["Milimani"]),
            ("Nakuru", "", "20100", ["Milimani", "Section 58"]),
            ("Eldoret", "", "30100", ["Elgon View"]),
        ],
        streets=["Ngong Road", "Riverside Drive", "Moi Avenue", "Oginga Odinga Street", "Kenyatta Avenue"]
        + ["Argwings Kodhek Road", "Nyerere Road"],
        nums=["%#", "%##", "%###", "%####"],
        units=["Apt %@", "Flat %#, Block @", "House No. %#", "Plot %#"],
        one=["P.O. Box {n}-{pc}, {city}", "P.O. Box {n}, {city} {pc}", "{unit}, {st}, {sub}, {city}"]
        + ["{unit}, {st}, {sub}, {city} {pc}"],
        multi=["{unit}\n{st}, {sub}\n{city}", "P.O. Box {n}-{pc}\n{city}"],
        phones=["07%# ### ###", "+254 7%# ######", "020 ### ####", "+254 (0) 7%# ### ###"],
        regions=["Rift Valley", "Turkana", "Kiambu", "Machakos"],
    ),
    "PH": dict(
        names=["Philippines"],
        cities=[
            ("Makati City", "Metro Manila", "12%#", ["Brgy. San Lorenzo", "Brgy. Poblacion", "Brgy. Bel-Air"]),
            ("Quezon City", "Metro Manila", "11%#", ["Brgy. Loyola Heights", "Brgy. Teachers Village East"]),
            ("Cebu City", "Cebu", "6000", ["Brgy. Mabolo", "Brgy. Talamban", "Brgy. Lahug"]),
            ("Davao City", "Davao del Sur", "8000", ["Brgy. Lanang", "Brgy. Buhangin"]),
            ("Iloilo City", "Iloilo", "5000", ["Brgy. Jaro"]),
            ("Baguio City", "Benguet", "2600", ["Brgy. Camp 7"]),
        ],
        streets=["Sampaguita St.", "Gen. Luna St.", "Osmeña Blvd.", "J.P. Laurel Ave.", "Rizal Ave."]
        + ["Katipunan Ave.", "Mabini St.", "Acacia Lane"],
        nums=["%", "%#", "%##"],
        units=["Unit %#0%", "Blk % Lot %#", "Unit %0# Tower %", "Rm. %0#"],
        one=["{unit}, {n} {st}, {sub}, {city}, {pc} {reg}", "{n} {st}, {sub}, {city} {pc}"]
        + ["{unit}, {st}, {sub}, {city}, {reg} {pc}"],
        multi=["{unit}, {n} {st}\n{sub}\n{city}, {reg} {pc}"],
        phones=["09%# ### ####", "+63 9%# ### ####", "(02) 8### ####", "(032) ### ####"],
        regions=["Mindanao", "Visayas", "Palawan", "Bohol"],
    ),
    "SG": dict(
        names=[],
        cities=[
            ("Singapore", "", "46%###"),
            ("Singapore", "", "56%###"),
            ("Singapore", "", "64%###"),
            ("Singapore", "", "32%###"),
            ("Singapore", "", "52%###"),
        ],
        streets=["Bedok North Avenue 2", "Ang Mo Kio Avenue 3", "Jurong West Street 42", "Jalan Bukit Merah"]
        + ["Toa Payoh Lorong 1", "Yishun Ring Road", "Jalan Kemaman", "Tampines Central 5"],
        nums=["%", "%#", "%##", "Blk %##", "Blk %#@"],
        units=["!0%-%#", "!%#-%##", "!0%-0%"],
        one=["{n} {st}, {unit}, {city} {pc}", "{n} {st}, {city} {pc}", "{n} {st} {unit} {city} {pc}"],
        multi=["{n} {st}\n{unit}\n{city} {pc}"],
        phones=["+65 6### ####", "9### ####", "8### ####", "6### ####"],
        regions=["Tampines", "Jurong", "Sentosa"],
    ),
    "NZ": dict(
        names=["New Zealand", "Aotearoa"],
        cities=[
            ("Auckland", "", "06%#", ["Mairangi Bay", "Mt Eden", "Ōtāhuhu"]),
            ("Wellington", "", "60%#", ["Te Aro", "Newtown"]),
            ("Christchurch", "", "80%#", ["Riccarton", "Sydenham"]),
            ("Dunedin", "", "90%#", ["North East Valley"]),
            ("Hamilton", "", "32%#", ["Hillcrest"]),
            ("Rotorua", "", "30%#", ["Ōhinemutu"]),
            ("Whangārei", "", "01%#", ["Kensington"]),
        ],
        streets=["Kowhai Road", "Cuba Street", "Riccarton Road", "Pūriri Street", "Rata Crescent"]
        + ["Hinemoa Street", "Tui Lane", "Kauri Place"],
        nums=["%", "%#", "%##", "%/%#"],
        units=["Flat %", "Unit %@"],
        one=["{n} {st}, {sub}, {city} {pc}", "{unit}, {n} {st}, {sub}, {city} {pc}", "{n} {st}, {city} {pc}"],
        multi=["{n} {st}\n{sub}\n{city} {pc}"],
        phones=["021 ### ####", "(0%) ### ####", "+64 %# ### ####", "027 ### ####"],
        regions=["Otago", "Northland", "Waikato", "Hawke's Bay"],
    ),
    "KR": dict(
        names=["South Korea", "Republic of Korea"],
        cities=[
            ("Seoul", "Gangnam-gu", "06###"),
            ("Seoul", "Mapo-gu", "04###"),
            ("Busan", "Haeundae-gu", "48###"),
            ("Daegu", "Suseong-gu", "42###"),
            ("Incheon", "Yeonsu-gu", "21###"),
            ("Gwangju", "Buk-gu", "61###"),
            ("Daejeon", "Yuseong-gu", "34###"),
        ],
        streets=["Teheran-ro", "Haeundae-ro", "Dalgubeol-daero", "Songdo-gwahak-ro", "Yongbong-ro", "Daehak-ro"]
        + ["Teheran-ro 20-gil", "Wausan-ro 29-gil", "Haeundae-ro 570beon-gil"],
        nums=["%", "%#", "%##"],
        units=["Apt %0%-%#0#", "!%0#", "%F", "Unit %0#"],
        one=["{n} {st}, {reg}, {city} {pc}", "{unit}, {n} {st}, {reg}, {city} {pc}", "{n}, {st}, {reg}, {city}, {pc}"],
        multi=["{unit}, {n} {st}\n{reg}, {city} {pc}"],
        phones=["010-####-####", "+82 2-###-####", "02-###-####", "+82 10-####-####", "051-###-####"],
        regions=["Jeju", "Gyeonggi", "Gangwon"],
    ),
}

WORLD_PLACES = ["Lagos", "Ibadan", "Enugu", "Accra", "Kumasi", "Addis Ababa", "Mekelle", "Hargeisa", "Mogadishu"]
WORLD_PLACES += ["Lima", "Cusco", "Arequipa", "La Paz", "Cochabamba", "Recife", "Salvador", "Belo Horizonte"]
WORLD_PLACES += ["Kingston", "Port of Spain", "Bridgetown", "Tehran", "Isfahan", "Shiraz", "Amman", "Beirut"]
WORLD_PLACES += ["Alexandria", "Casablanca", "Lahore", "Dhaka", "Chennai", "Pune", "Colombo", "Kathmandu", "Hanoi"]
WORLD_PLACES += ["Da Nang", "Chiang Mai", "Surabaya", "Penang", "Kuching", "Osaka", "Sapporo", "Fukuoka", "Chengdu"]
WORLD_PLACES += ["Xiamen", "Kaohsiung", "Kraków", "Brno", "Novi Sad", "Lviv", "Vilnius", "Riga", "Tartu"]
WORLD_PLACES += ["Debrecen", "Tampere", "Oulu", "Aarhus", "Suva", "Apia", "Nukuʻalofa", "Rarotonga", "Tabriz"]
WORLD_PLACES += ["Thessaly", "Punjab", "Kerala", "Sindh", "Patagonia", "Tuscany", "Andalusia", "Brittany"]

# --------------------------------------------------------------------------- distractors (never gold)
HOTELS = ["Pinecrest Hotel & Spa", "Blue Heron Lodge", "Harbourside Suites", "The Linden Inn", "Casa Azul Hostel"]
HOTELS += ["Grand Meridian Hotel", "Kōwhai Motor Lodge"]
CLINICS = ["Riverside Community Health", "Orchard Lane Medical Centre", "Mount Carmel Hospital", "Saint Jude Clinic"]
CLINICS += ["Northside Family Practice", "Green Valley Health Centre"]
SCHOOLS = ["St Brigid's Primary School", "Greenfield University", "Westfield Grammar", "Lakeside Technical College"]
SCHOOLS += ["Hillview Academy"]
COMPANIES = ["Northgate Mutual", "Bluewater Logistics", "Kestrel Insurance", "Harbourview Property Group"]
COMPANIES += ["Summit Air", "Sunrise Pharmacy", "Tidewater Legal Aid", "Ironbark Couriers", "Lighthouse Food Bank"]
COMPANIES += ["Meridian Trust Bank", "Copperleaf Realty", "Union Civic Housing", "Aurora Telecom", "Silverline Rail"]
COMPANIES += ["Redfern Valley Council"]
ORGS = HOTELS + CLINICS + SCHOOLS + COMPANIES
SURNAME_ORGS = ["Baker & Sons", "Pemberton Hale LLP", "Whitcombe & Daughters", "Harrow Fitch Capital"]
SURNAME_ORGS += ["Mensah Boateng & Co.", "Kowalczyk Transport", "Okafor Brothers Motors", "Lindqvist Advokatbyrå"]
SURNAME_ORGS += ["Takahashi Seiko", "Dos Santos Importações", "Schneider Elektro GmbH", "Ferreira & Filhos, Lda."]
SURNAME_ORGS += ["Abernathy Crane Partners", "Goldfarb Whitley", "Ramcharan & Persad Attorneys", "Hosseini Dental"]
SURNAME_ORGS += ["Morrow Kessler", "Van Ommeren Removals", "Al-Haddad Trading", "Quispe Hermanos S.A.C."]
STREET_BIZ = ["Main Street Bakery", "Elm Road Dental", "Harbour View Motors", "Station Road Garage"]
STREET_BIZ += ["Park Avenue Florist", "Church Lane Pharmacy", "King Street Laundromat", "High Street Vets"]
STREET_BIZ += ["Bridge Road Tyres", "Queen Street Mall", "Market Square Café", "Mill Lane Surgery"]
DRUGS = ["amoxicillin 500 mg", "Metformin 850 mg", "atorvastatin 20 mg", "a Salbutamol inhaler", "lisinopril 10 mg"]
DRUGS += ["Sertraline 50 mg", "warfarin", "Prednisolone 5 mg", "Ventolin", "Panadol", "Nurofen Plus", "Ozempic"]
DRUGS += ["Lantus SoloStar", "an EpiPen"]
PRODUCTS = ["MacBook Air", "Galaxy S23", "Dyson V11", "Kindle Paperwhite", "Bosch drill", "PlayStation 5"]
PRODUCTS += ["Garmin Forerunner", "Nespresso Vertuo", "Samsonite case", "Canon EOS R6", "Thermomix", "iPad Mini"]
VEHICLES = ["silver Toyota Corolla", "white Ford Transit", "blue Kia Sportage", "black Honda CB500", "red Mazda CX-5"]
VEHICLES += ["grey Volkswagen Golf", "white Mercedes-Benz Sprinter", "green Lincoln Navigator", "Isuzu D-Max"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]
MONTHS += ["November", "December"]
HOLIDAYS = ["Easter Monday", "Diwali", "Eid al-Fitr", "Thanksgiving", "Boxing Day", "Lunar New Year", "Waitangi Day"]
HOLIDAYS += ["Hanukkah", "Christmas", "Chuseok", "Kurban Bayramı", "Midsummer", "Heritage Day", "Jamhuri Day"]
JOBS = ["Claims Adjuster", "Registrar", "Duty Solicitor", "Leasing Agent", "Senior Pharmacist", "Night Manager"]
JOBS += ["Head of Year 9", "Case Worker", "Property Manager", "Dispatch Supervisor", "Paralegal", "Clerk of Court"]
JOBS += ["Site Foreman", "Volunteer Coordinator", "Office Manager", "Senior Associate"]
DEPTS = ["Civil Engineering", "Nursing", "Modern Languages", "Economics", "Physics", "Social Work", "Law"]
RELATIONS = ["partner", "spouse", "sibling", "parent", "cousin", "friend", "neighbour", "guardian"]
REFS = ["INC00#####", "Ticket !#####", "REF/%##/@@", "Job no. %####", "File 2%-@@-####", "ORD-@%@%-####"]
REFS += ["BK-%#####", "QT-2%-%##", "@@%-####-@"]
CLAIM_REFS = ["CLM-202%-0####", "C/%#####/@@", "CL-%##-###"]
CASE_REFS = ["2%/####", "CR-202%-00###", "2%-@@-%###", "@@2%-0####"]
POLICY_REFS = ["@@-%##-0##", "POL%######", "H@-####-%#"]
RX_REFS = ["%######", "#%-#####@"]
ID_REFS = ["%#######", "S202%####", "@@%#####", "M-%####"]
AWB = ["%### #### ####", "JD0##########", "@@%########@@"]
AIRLINES = ["LH", "TK", "QF", "EK", "NZ", "SQ", "KE", "AA", "EI", "TP", "A3", "KQ", "PR", "AC", "AM", "SK", "LX"]
AIRLINES += ["OS", "ET", "BA", "AF"]
AMOUNTS = ["$%,###.##", "€%##,##", "£%##", "KES %,###", "R %###", "₱%#,###", "CHF %##.–", "%,### SEK", "₩%##,000"]
AMOUNTS += ["NZ$%##.##", "%## TL", "MXN %,###"]
UNITS = ["%@", "%#", "G0%", "%0%"]

# --------------------------------------------------------------------------- templates
# {pN.attr}: person N (pNf / pNm at a first mention fixes the gender). attr: full, given, nick, family, FULL, GIVEN,
# FAMILY, rev ("Family, Given"), init ("G. Family"), pnr ("FAMILY/GIVEN"), title and hon (not gold).
# {aN}: address N on one line, {aN.ml} on several lines, {aN.city} its city alone (LOCATION), {aN.country} (not gold).
# {tN}: phone N. {lN}: a city or region alone. Other names: distractors (never gold).
TEMPLATES = [
    # insurance
    (
        "insurance",
        "CLAIM NOTE {clm}\nCLAIMANT: {p1.FULL}\nLOSS ADDRESS: {a1}\nContact: {t1}/Cell\nInsured vehicle: {vehicle}. Adjuster {p2.full} to inspect on {day}.",
    ),
    (
        "insurance",
        "Spoke with {p1.title} {p1.family} re water damage at {a1}. Plumber from {sorg} attended on {day}; invoice {amount}. Call back on {t1} after 5pm.",
    ),
    (
        "insurance",
        "Policyholder {p1.full} (policy {policy}) reports theft of a {product} while travelling in {l1}. Police ref {ref}. Passed to {p2.given} in subrogation.",
    ),
    (
        "insurance",
        "Third party: {p2.rev}\nAddress: {a2}\nPhone: {t2}-Home\nInsurer: {company}\nNotes: rear-ended our insured, {p1.full}, at the lights outside {biz}.",
    ),
    (
        "insurance",
        "{p1f.given} rang again about claim {clm}. Says the assessor, {p2.init}, never turned up. She is staying with her sister in {l1} until {month}; best number {t1}.",
    ),
    (
        "insurance",
        "Fire claim {clm}\nRisk address:\n{a1.ml}\nOwner: {p1.full}. Tenant: {p2.full}.\nFire service attended; loss adjuster estimate {amount}.",
    ),
    (
        "insurance",
        "Claimant's solicitor, {p1.full} of {sorg}, confirms {p2.title} {p2.family} was a passenger in the {vehicle}. Taken to {clinic}, {a1.city}.",
    ),
    (
        "insurance",
        "Travel claim {clm}: {p1.full} missed connection {flight} in {l1} after a strike and paid for a hotel in {l2} ({amount}). Receipts to follow by post from {a1}.",
    ),
    (
        "insurance",
        "Diary note {date}: left voicemail for Mr {p1m.family} on {t1}-Work. No reply from his wife, {p2f.given}. Escalate to {job} if no contact by {day}.",
    ),
    (
        "insurance",
        "MEMBER: {p1.rev}\nMEMBER NO: {sid}\nPOSTAL: {a1}\nHOME PH: {t1}\nBENEFICIARY: {p2.full} ({relation})",
    ),
    (
        "insurance",
        "Hail damage to the {vehicle} belonging to {p1.full}, parked at {a1} on {date}. Repairer: {biz}. {p1.given} wants a courtesy car.",
    ),
    # school and university
    (
        "school",
        "Dear {p1.given},\nYour application to the {dept} programme has been received. Please post a certified copy of your transcript to the Registry, {a1}.\nKind regards,\n{p2.full}\nAdmissions Officer",
    ),
    (
        "school",
        "Hi all, reminder that {p1.title} {p1.family}'s Year 9 parents' evening has moved to {day}. Questions to {p2.full} on {t1} or the school office.",
    ),
    (
        "school",
        "Student: {p1.FULL} | ID {sid} | Programme: MSc {dept}\nTerm address: {a1}\nEmergency contact: {p2.full} ({relation}), {t1}",
    ),
    (
        "school",
        "From: {p1.full}\nTo: Exams Office\nSubject: Deferral request\nI was in {l1} for my grandmother's funeral over {holiday} and missed the {month} sitting. My supervisor, Prof. {p2.family}, supports the request.",
    ),
    ("school", "Please welcome {p1.full}, who joins {dept} as {job}. {p1.given} comes to us from {company} in {l1}."),
    (
        "school",
        "Library fines outstanding: {p1.rev} ({amount}); {p2.rev} ({amount}); {p3.rev} ({amount}). Letters sent to the home addresses on file.",
    ),
    (
        "school",
        "Dear Parent/Guardian of {p1.full},\n{p1.given} has been selected for the regional debate final in {l1} on {date}. The coach leaves {school} at 7am. Questions to {p2.title} {p2.family}.",
    ),
    (
        "school",
        "Change of address for {p1.full} (ID {sid}): old {a1}; new {a2}. Updated by {p2.given} in Student Records.",
    ),
    (
        "school",
        "Room bookings {day}:\n09:00 Seminar Room 2 — Dr {p1.family}\n11:00 Lab B — {p2.full}\n14:00 Senate Hall — {company} careers fair",
    ),
    (
        "school",
        "Hey {p1.nick}, it's {p2.given} from your {dept} tutorial. Are you still subletting your room at {a1}? My number is {t1}.",
    ),
    ("school", "Graduation list (Faculty of {dept}): {p1.full}; {p2.full}; {p3.full}; {p4.full}."),
    ("school", "Accommodation offer: {p1.full}, Room {unit}, {school} Halls, {a1}. Warden: {p2.full}, {t1}-Office."),
    (
        "school",
        "Field trip to {l1} and {l2} on {date}. Permission slips to {p1.title} {p1.family} by {day}; {p2.given} and {p3.given} still owe {amount}.",
    ),
    # legal intake
    (
        "legal",
        "INTAKE — {case}\nClient: {p1.full}\nDOB: {date}\nAddress: {a1}\nTel: {t1}\nOpposing party: {p2.full} c/o {sorg}\nMatter: unpaid wages, employer {company}.",
    ),
    (
        "legal",
        "New enquiry from {p1.title} {p1.family}. Landlord {p2.full} is withholding a deposit of {amount} for the flat at {a1}. Conflict check against {sorg}: clear.",
    ),
    (
        "legal",
        "Client {p1f.given} says her ex-partner, {p2m.full}, moved to {l1} in {month} and stopped paying child support. Next step: letter before action to {sorg}.",
    ),
    (
        "legal",
        "Witnesses: {p1.full}, {p2m.full} and {p3.full}. Mr {p2.family} will need an interpreter; {p3.given} is available only after {holiday}.",
    ),
    (
        "legal",
        "File note {date}. Met {p1f.full} and her brother {p2m.given} at our {l1} office. Deceased: {p3.full}, late of {a1}. Will held by {sorg}.",
    ),
    (
        "legal",
        "Attendance note: call from {p1.full} ({t1}) re eviction from {a1}. Advised to contact {company}. Follow-up with {p2.title} {p2.family} on {day}.",
    ),
    (
        "legal",
        "RE: {p1.FULL} v {p2.FULL}\nOur ref: {ref}\nPlease direct all correspondence to the undersigned at\n{a1.ml}\nTel/Fax {t1}\n{p3.full}, {job}",
    ),
    ("legal", "Power of attorney: donor {p1.full} of {a1}; attorneys {p2.full} and {p3.full}, both of {a1.city}."),
    ("legal", "Retainer signed {date}. Client: {p1.init}. Fee estimate {amount}. Supervising: {p2.full} ({job})."),
    (
        "legal",
        "Immigration intake: {p1.full}, arrived from {l1} in {month}. Staying with {p2.full} at {a1}. Interpreter requested; contact via {p2.given} on {t1}.",
    ),
    # real estate
    (
        "realestate",
        "OPEN HOME {day} 11:00–11:45\n{a1}\nSunny three-bedroom close to {biz}. Contact {p1.full} at {company} on {t1}.",
    ),
    (
        "realestate",
        "Just listed: renovated two-bed apartment at {a1}. Walk to {biz}. Asking {amount}. Viewings with {p1.given} — call or text {t1}.",
    ),
    ("realestate", "Agent: {p1.full}\nOffice: {company}, {a2}\nTel/Fax {t1}\nListing {ref}: {a1}"),
    (
        "realestate",
        "SOLD by {p1.full}! {a1} went under the hammer for {amount} on {day}. Thinking of selling in {l1}? Call {p1.given} on {t1}.",
    ),
    (
        "realestate",
        "Buyer enquiry: {p1f.full} ({t1}) wants a second viewing of {a1} with her partner {p2.given}. Vendor {p3.title} {p3.family} is free {day} afternoons.",
    ),
    (
        "realestate",
        "Lot 12 — former {biz} premises\n{a1.ml}\nVendor: {sorg}\nInspection by appointment with {p1.full}, {t1}-Mobile",
    ),
    (
        "realestate",
        "Price reduced! Family home in {a1.city} — {a1}. Big garden, near {school}. Open {day}, {time}. Ask for {p1.full}.",
    ),
    (
        "realestate",
        "Rental appraisal for {p1.title} {p1.full}: {a1}, est. {amount} per month. Prepared by {p2.full}, {company}.",
    ),
    (
        "realestate",
        "Comparable sales near {a1}:\n- {a2}, {amount}\n- {a3}, {amount}\nPrepared for {p1.rev} by {p2.init}.",
    ),
    # tenancy letters
    (
        "tenancy",
        "{p1.full}\n{a1.ml}\n\nDear {p1.title} {p1.family},\nThis is formal notice that the rent for the above property rises to {amount} from 1 {month}.\nYours sincerely,\n{p2.full}, {company}",
    ),
    (
        "tenancy",
        "Tenant | Unit | Phone\n{p1.full} | {unit} | {t1}\n{p2.full} | {unit} | {t2}\n{p3.full} | {unit} | {t3}",
    ),
    (
        "tenancy",
        "Notice to quit served on {p1.full} and {p2.full}, occupiers of {a1}, on {date}. Served by hand by {p3.full} ({job}).",
    ),
    (
        "tenancy",
        "Hi {p1.given}, the boiler engineer from {sorg} will call on {day} between 8 and 12. If nobody's home he'll get the key from {p2.given} at number {num}. Thanks, {p3.given}",
    ),
    (
        "tenancy",
        "Tenancy agreement\nLandlord: {p1.full}, {a2}\nTenant(s): {p2.full}; {p3.full}\nProperty: {a1}\nRent: {amount}, payable on the 1st",
    ),
    (
        "tenancy",
        "Dear {p1.title} {p1.family}, we have received your complaint about damp in the bedroom at {a1}. Our surveyor, {p2.full}, will visit on {day}. Ref {ref}.",
    ),
    ("tenancy", "Guarantor form — guarantor: {p1.full}, {a2}, tel {t1}; tenant: {p2.full}; relationship: {relation}."),
    (
        "tenancy",
        "Inventory check-out {date}: {a1}. Present: {p1.given} (tenant), {p2.given} (agent). Keys returned: 3. Meter readings photographed.",
    ),
    ("tenancy", "UNIT {unit} — {p1.FULL}\nEMERGENCY CONTACT: {p2.FULL} {t1}\nPARKING BAY {num}, {vehicle}"),
    (
        "tenancy",
        "To the occupier, {a1}: water will be off on {day} from 9 to 1. Sorry for the trouble. — {p1.given}, caretaker ({t1})",
    ),
    # bookings
    (
        "booking",
        "Booking confirmed — PNR {pnr}\nPassenger: {p1.pnr} {p1.hon}\nFlight {flight} {l1} → {l2}, {date}\nContact: {t1}",
    ),
    (
        "booking",
        "Dear {p1.full}, thank you for booking with {hotel}. Your room (Deluxe King, 3 nights) is confirmed from {date}. Hotel address: {a1}. Reservation {ref}.",
    ),
    ("booking", "Guests: {p1.full}, {p2.full}\nArrival: {day} {date}\nBilling address:\n{a1.ml}\nPhone: {t1}"),
    (
        "booking",
        "Your transfer driver, {p1.given}, will meet you at arrivals holding a sign reading '{p2.FAMILY}'. Flight {flight} from {l1}. Driver mobile: {t1}.",
    ),
    ("booking", "PASSENGER LIST {flight}\n1. {p1.pnr} {p1.hon}\n2. {p2.pnr} {p2.hon}\n3. {p3.pnr} {p3.hon}"),
    (
        "booking",
        "Hi {p1.given}! Your stay at {hotel}, {a1}, starts {day}. Check-in from 15:00. Questions? WhatsApp {p2.given} on {t1}.",
    ),
    (
        "booking",
        "Itinerary for {p1.title} {p1.full}\n{date} {flight} {l1}–{l2}\nHotel: {hotel}, {a1}\nBooked by: {p2.full}, {job}",
    ),
    (
        "booking",
        "Rebooking note: pax {p1.rev} missed {flight} due to a late inbound from {l1}. Rebooked on the next day's service. PNR {pnr}.",
    ),
    ("booking", "Car hire voucher {ref}: driver {p1.full}, {vehicle}, pick-up {l1} airport {date}, drop-off {a1}."),
    ("booking", "Tour group {ref}: {l1} → {l2} → {l3}. Guide: {p1.full} ({t1}). Overnight in {l2} at {hotel}."),
    # police and incidents
    (
        "police",
        "INCIDENT REPORT {ref}\nReporting officer: Sgt {p1.family}\nComplainant: {p2.full}, of {a1}\nAt approx. {time} on {day} a {vehicle} was seen leaving {biz}. Witness {p3.full} ({t1}) gave a statement.",
    ),
    (
        "police",
        "PC {p1.family} attended {a1} after a call from a neighbour, {p2.full}. The occupant, {p3f.given}, said her brother had gone to {l1}.",
    ),
    (
        "police",
        "Suspect is male, 30s, known as '{p1m.nick}'. Last seen near {biz} in {l1}. Info to Det. Insp. {p2.full} on {t1}.",
    ),
    (
        "police",
        "MISSING PERSON: {p1.FULL}, aged {age}, from {l1}. Last known address: {a1}. Family contact: {p2.full}, {t1}.",
    ),
    (
        "police",
        "Statement of {p1.full}, {job}, {company}.\nOn {day} I was working at {a1} when a man I know as {p2m.given} came in and demanded cash.",
    ),
    (
        "police",
        "Stolen {vehicle} recovered in {l1}. Registered keeper: {p1.full}, {a1}. Keeper informed by Const. {p2.family}.",
    ),
    (
        "police",
        "Noise complaint, {a1}. Caller {p1.given} (would not give surname), {t1}. Units attended {time}; spoke with resident {p2.full}. Words of advice.",
    ),
    (
        "police",
        "Crash report {ref}: driver 1 {p1.full} ({vehicle}); driver 2 {p2.full} ({vehicle}). Junction near {biz}, {l1}. Officer: {p3.title} {p3.family}.",
    ),
    ("police", "Bail address for {p1.full}: c/o {p2.full}, {a1}. To report to the station in {l1} every {day}."),
    (
        "police",
        "Community alert: parcels stolen from doorsteps in {l1} and {l2}. If you have doorbell footage contact PCSO {p1.full} on {t1}.",
    ),
    # pharmacy
    (
        "pharmacy",
        "Rx {rx} for {p1.full}, {drug}, repeat x2. Prescriber: Dr {p2.family}. Patient asks for delivery to {a1}.",
    ),
    (
        "pharmacy",
        "Pharmacy note: {p1f.full} collected {drug} on behalf of her father, {p2m.full}. ID checked by {p3.given}. Father's GP: Dr {p4.family}, {clinic}.",
    ),
    (
        "pharmacy",
        "Interaction alert overridden for {p1.rev} ({drug} + {drug}). Discussed with prescriber on {t1}-Surgery.",
    ),
    (
        "pharmacy",
        "Owing slip: {drug} for {p1.title} {p1.family} — due on {day}. Call {t1} when ready. Taken by {p2.given}.",
    ),
    ("pharmacy", "Delivery round {day}:\n1. {p1.full}, {a1}\n2. {p2.full}, {a2}\nDriver: {p3.given}"),
    (
        "pharmacy",
        "Dear Dr {p1.family},\nYour patient {p2.full} (DOB {date}) was given an emergency supply of {drug} today while visiting {l1}.\n{p3.full}, {job}, {company}",
    ),
    (
        "pharmacy",
        "Medication review for {p1.full}: takes {drug} and {drug}. Carer {p2.given} ({relation}) manages the dosette box. Tel {t1}/Home.",
    ),
    (
        "pharmacy",
        "Flu clinic, {holiday} week: {p1.full} 09:10; {p2.full} 09:20; {p3.rev} 09:30; {p4.title} {p4.family} 09:40.",
    ),
    # courier
    (
        "courier",
        "Your parcel {ref} from {company} is out for delivery today. Deliver to: {p1.full}, {a1}. Driver {p2.given} — {t1}.",
    ),
    (
        "courier",
        "We tried to deliver your parcel on {day}. It has been left with your neighbour {p1.given} at {a1}. To rebook call {t1}.",
    ),
    ("courier", "AWB {awb}\nShipper: {sorg}, {a2}\nConsignee: {p1.full}\n{a1.ml}\nTel {t1}\nContents: {product}"),
    (
        "courier",
        "Delivery exception: address incomplete for {p1.FULL}. Customer says deliver to {a1} instead, side door. Contact {t1}.",
    ),
    ("courier", "Signed for by: {p1.FAMILY}\nDelivered {time} to reception, {company}, {a1}."),
    ("courier", "Courier manifest {date}\n{p1.full} | {a1} | {t1}\n{p2.full} | {a2} | {t2}"),
    (
        "courier",
        "Hi {p1.given}, your {product} is ready for collection at our {l1} depot ({biz} car park). Bring ID. Ref {ref}.",
    ),
    ("courier", "Return to sender: {p1.full}, {a1}. Recipient {p2.full} no longer at this address (moved to {l1})."),
    # volunteer rosters
    (
        "roster",
        "VOLUNTEER ROSTER — {holiday} food drive\n{day}: {p1.full}, {p2.full}\n{day}: {p3.title} {p3.family} and {p4.given}\nCoordinator: {p5.full} ({t1})",
    ),
    (
        "roster",
        "Sat: {p1.given} (kitchen), {p2.given} (door)\nSun: {p3.full} — driving to {l1}\nBackup: {p4.full}, {t1}",
    ),
    (
        "roster",
        "Thanks to everyone who helped at the {l1} beach clean-up, especially {p1.full}, {p2.given} and the crew from {company}!",
    ),
    (
        "roster",
        "Driver | Round | Pick-up address\n{p1.full} | AM | {a1}\n{p2.full} | PM | {a2}\n{p3.full} | Sat | {a3}",
    ),
    (
        "roster",
        "Meals on wheels — {day}\n{p1.given}: {a1}\n{p2.given}: {a2}\nRing {p3.given} on {t1} if a client doesn't answer.",
    ),
    (
        "roster",
        "Reading buddies this term: {p1.given} & {p2.given}; {p3.given} & {p4.given}. Thanks to {p5.title} {p5.family} for the room.",
    ),
    ("roster", "Choir car-share to {l1}: {p1.full} can take three from {a1}; {p2.given} has a seat spare from {l2}."),
    # court listings
    (
        "court",
        "COURT 3 — {day} 10:00\nCase {case}  R v {p1.FULL}\nProsecution: {p2.full}\nDefence: {p3.full} ({sorg})\nBefore: HHJ {p4.family}",
    ),
    ("court", "{case} {p1.rev} v {org} — directions; {case} {p2.rev} v {p3.rev} — adjourned to {date}."),
    (
        "court",
        "In the estate of the late {p1.full}, formerly of {a1}. Claims to {p2.full}, Executor, c/o {sorg}, {a2}.",
    ),
    (
        "court",
        "Small claims list, County Court at {l1}, {day}:\n10:00 {p1.FAMILY} v {p2.FAMILY}\n10:30 {sorg} v {p3.FAMILY}",
    ),
    (
        "court",
        "Judgment: the court finds for the claimant, {p1.full}. The defendant, {p2.title} {p2.family}, shall pay {amount} within 28 days.",
    ),
    ("court", "Applicant: {p1.full} of {a1}\nRespondent: {p2.full} of {a2}\nHearing: {date}, before Judge {p3.family}"),
    ("court", "JURY SUMMONS\n{p1.FULL}\n{a1.ml}\nAttend the Crown Court at {l1} on {date} at 09:30. Enquiries {t1}."),
    # forum posts
    (
        "forum",
        "Re: best GP in {l1}?\nI've been with Dr {p1f.family} at {clinic} for years, can't fault her. Avoid the walk-in clinic by {biz} though.",
    ),
    (
        "forum",
        "Has anyone used {sorg} for a move from {l1} to {l2}? The guy who quoted us, {p1m.given}, seemed legit but wanted {amount} up front.",
    ),
    (
        "forum",
        "PSA: scam calls from {t1} claiming to be {company}. They knew my mum's name ({p1f.full}) and asked her to confirm her address.",
    ),
    ("forum", "Lost: grey tabby cat near {biz}, answers to Biscuit. If found please call {p1.given} on {t1}. Reward!"),
    ("forum", "Shoutout to {p1.full} at {company} in {l1} who sorted my visa paperwork in a day. Ask for {p1.given}!"),
    (
        "forum",
        'Quote from the other thread: "{p1.given} said the landlord is {p2m.full} and he owns half of {l1}" — can anyone confirm?',
    ),
    ("forum", "Selling my {product}, pick up from {a1} or meet in {l1}. DM or text {t1}. — {p1.given}"),
    (
        "forum",
        "Our family reunion is in {l1} this {month}! {p1.given} and {p2.given} are hosting at {a1}. RSVP to Auntie {p3f.given}.",
    ),
    (
        "forum",
        "moved from {l1} to {l2} last {month}, anyone know a good mechanic? {p1.given} at {biz} quoted {amount} for brakes lol",
    ),
    # sms threads
    (
        "sms",
        "{p1.given}: running late, stuck on the ring road\n{p2.given}: np we're at {biz}\n{p1.given}: ok see u in 10",
    ),
    ("sms", "hey its {p1.given}, new number. old one died. save this one {t1}"),
    (
        "sms",
        "Mum: did {p1m.given} get back from {l1}?\nMe: yeah landed last night on {flight}\nMum: tell him to ring Auntie {p2f.given}",
    ),
    ("sms", "pls send the parcel to my cousin instead: {p1f.full}, {a1}. she's home {day}"),
    (
        "sms",
        "{p1.given}: whats the address again\n{p2.given}: {a1}\n{p1.given}: ta. buzzer says {p3.FAMILY}?\n{p2.given}: yeah thats the landlord",
    ),
    (
        "sms",
        "Reminder: your appointment with {p1.title} {p1.family} is on {day} at {time}. Reply Y to confirm or call {t1}.",
    ),
    ("sms", "omg {p1.given} is moving to {l1}!! leaving party at {p2.given}'s on {day}"),
    ("sms", "can u pick up {p1.given} from {school} at 3? im stuck in {l1}. {p2.given}'s number is {t1} if u need"),
    ("sms", "{p1.nick} 🙂 ur {product} arrived, left it with {p2.given} next door"),
    # transcribed voicemail
    (
        "voicemail",
        "Voicemail (0:42): Hi, this is {p1.full} from {company}, calling for {p2.title} {p2.family} about invoice {ref}. Could you call me back on {t1}? Thanks, bye.",
    ),
    (
        "voicemail",
        "Voicemail: Hey {p1.nick}, it's {p2.given}. I'm outside {a1} but the buzzer's not working. Ring me on {t1}.",
    ),
    (
        "voicemail",
        "[transcribed] Hello, message for {p1.given}. This is Dr {p2.family}'s office in {l1} confirming {day} at {time}. Call {t1} to reschedule.",
    ),
    (
        "voicemail",
        "Voicemail from {t1} (1:05): \"Hi, it's {p1.full}, I'm the new tenant at {a1}. The hot water's off again, can someone come round?\"",
    ),
    (
        "voicemail",
        "Message left {date}: {p1.title} {p1.family} from {sorg} re the quote for {a1}. Best time to call {time}, on {t1}-Office.",
    ),
    (
        "voicemail",
        "voicemail: hiya it's {p1.nick} from the club, training's moved to {day}, pitch 2 behind {biz}. give me a bell on {t1}",
    ),
    (
        "voicemail",
        "Voicemail (0:18): Hi {p1.given}, {p2.full} here from {company}. Just confirming your delivery to {a1} tomorrow.",
    ),
    # office, health, community
    (
        "office",
        "Org chart update: {p1.full} ({job}) now reports to {p2.full}. {p3.given} covers the {l1} office until {month}.",
    ),
    ("office", "Out of office until {date}. For urgent matters contact {p1.full} on {t1}-Work or {t2}/Cell."),
    ("office", "{p1.full} | {job}\n{company}\n{a1}\nT {t1} | F {t2}-Fax"),
    (
        "office",
        "Referral: {p1.title} {p1.full}, {age}, {a1}. Referred by Dr {p2.full}, {clinic}. Next of kin: {p3.full} ({relation}), {t1}.",
    ),
    (
        "office",
        "Payroll: please update the home address for {p1.rev} (emp. {sid}) to {a1} from {month}. Approved by {p2.init}.",
    ),
    (
        "office",
        "Welcome to the team, {p1.full}! {p1.given} joins us from {l1} and will sit with {p2.title} {p2.family}'s group on the third floor.",
    ),
    (
        "office",
        "Reference for {p1.full}: I supervised {p1.given} at {sorg} from 2019 to 2023. Please contact me on {t1}. — {p2.full}, {job}",
    ),
    (
        "office",
        "Church notices: congratulations to {p1.full} and {p2.full} on their engagement. The {p3.family} family thank everyone for the flowers. Rev. {p4.family} is away over {holiday}.",
    ),
    (
        "office",
        "OBITUARY — {p1m.FULL}, of {l1}, peacefully on {date}. Beloved husband of {p2f.given}, father of {p3.given} and {p4.given}.",
    ),
    (
        "office",
        "Emergency contacts\n{p1.given} ({relation}) — {t1}\n{p2.full} ({relation}) — {t2}\nGP: Dr {p3.family}, {t3}",
    ),
    (
        "office",
        "Appointment letter\n{p1.full}\n{a1.ml}\nDear {p1.given},\nYou are booked in at {clinic} on {date} with {p2.title} {p2.family}.",
    ),
    ("office", "Wedding RSVP: {p1.full} +1 ({p2.given}). Dietary: vegetarian. Gift to be sent to {a1}."),
    (
        "office",
        "Bank note: customer {p1f.full} reports her card used in {l1} and {l2} while she was at home. Card stopped. Callback {t1}.",
    ),
    (
        "office",
        "Sports club membership no. {sid}\nMember: {p1.full}\nAddress: {a1}\nParent/guardian: {p2.full}\nMobile: {t1}",
    ),
    (
        "office",
        "Visitor log {date}: {p1.full} ({company}) to see {p2.given}; {p3.full} ({sorg}) to see {p4.title} {p4.family}.",
    ),
    (
        "office",
        "Moving checklist: forward mail from {a2} to {a1}; tell {p1.given} at the bank; cancel {company} broadband.",
    ),
    ("office", "Shipping label\nFROM: {p1.FULL}, {a1}\nTO: {p2.FULL}\n{a2.ml}\n{a2.country}"),
    ("office", "Conference badges: {p1.full} ({org}, {l1}); {p2.full} ({sorg}, {l2}); {p3.rev} ({org}, {l3})."),
    ("courier", "Attn: Dr {p1.family}\n{company}\n{a1.ml}\nRef {ref}"),
    (
        "police",
        "Sgt {p1.family} and PC {p2.family} attended {a1} at {time}. Occupier, {p3.title} {p3.family}, not home; card left.",
    ),
    (
        "school",
        "{p1.title} {p1.family}'s class will visit {l1} on {day}. Please return the signed form to {p2.title} {p2.family} by {date}.",
    ),
    (
        "tenancy",
        "Neighbour dispute between the {p1.family} household at {a1} and the {p2.family} household at {a2}. Mediator: {p3.full}.",
    ),
    (
        "realestate",
        "Vendor: {p1.title} {p1.family}\nProperty:\n{a1.ml}\nVendor's solicitor: {p2.title} {p2.family}, {sorg}",
    ),
    (
        "legal",
        "Dear {p1.title} {p1.family},\nWe act for {p2.full} in respect of {a1}. Please reply to our office at {a2}, quoting {ref}.",
    ),
    ("booking", "{hotel}, {a1}\nGuest: {p1.title} {p1.FAMILY}\nRoom {unit}, {num} nights from {date}"),
    ("pharmacy", "Home delivery: Mrs {p1f.family}, {a1}. If out, leave with the neighbour ({p2.title} {p2.family})."),
    (
        "insurance",
        "Loss adjuster {p1.title} {p1.family} visited {a1} on {date} with the contractor, Mr {p2m.family} of {sorg}.",
    ),
    (
        "court",
        "Possession claim {case}: {sorg} v {p1.FAMILY}, premises at {a1}. {p1.title} {p1.family} did not attend.",
    ),
]
