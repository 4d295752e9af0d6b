"""The people and companies of the demo book. Fictional, but shaped like a real one."""

USERS = [
    # username, first, last, role (None = superuser admin)
    ("rep", "Rita", "Romero", "Sales rep"),
    ("rep2", "Oskar", "Lindqvist", "Sales rep"),
    ("salesmanager", "Samira", "Haddad", "Sales manager"),
    ("clerk", "Clara", "Becker", "Finance clerk"),
    ("financemanager", "Felix", "Moreau", "Finance manager"),
    ("admin", "Ada", "Nakamura", "Admin"),
]

# name, legal suffix, city, postal code, street, country, currency
LOCATIONS = [
    ("Berlin", "10117", "Friedrichstraße", "DE", "EUR"),
    ("Munich", "80331", "Sendlinger Straße", "DE", "EUR"),
    ("Hamburg", "20095", "Mönckebergstraße", "DE", "EUR"),
    ("Vienna", "1010", "Kärntner Straße", "AT", "EUR"),
    ("Paris", "75002", "Rue de la Paix", "FR", "EUR"),
    ("Lyon", "69002", "Rue de la République", "FR", "EUR"),
    ("Amsterdam", "1012 JS", "Damrak", "NL", "EUR"),
    ("Madrid", "28013", "Calle Gran Vía", "ES", "EUR"),
    ("Milan", "20121", "Via Montenapoleone", "IT", "EUR"),
    ("Zurich", "8001", "Bahnhofstrasse", "CH", "CHF"),
    ("London", "EC2V 7HH", "Cheapside", "GB", "GBP"),
    ("Manchester", "M2 5DB", "Deansgate", "GB", "GBP"),
    ("Stockholm", "111 52", "Drottninggatan", "SE", "SEK"),
    ("New York", "10004", "Broadway", "US", "USD"),
    ("Chicago", "60601", "Michigan Avenue", "US", "USD"),
]

COMPANIES = [
    ("Nordwind Logistik", "GmbH"), ("Helix Pharma", "AG"), ("Brightline Media", "Ltd"), ("Cobalt Robotics", "Inc."),
    ("Alpenglühen Hotels", "GmbH"), ("Maison Verdier", "SAS"), ("Tulip Fintech", "B.V."), ("Solaria Energía", "S.L."),
    ("Ferro Meccanica", "S.p.A."), ("Glacier Insurance", "AG"), ("Kestrel Analytics", "Ltd"), ("Riverside Foods", "Ltd"),
    ("Fjord Design", "AB"), ("Hudson Freight", "LLC"), ("Lakeshore Health", "Inc."), ("Quantum Leap Software", "GmbH"),
    ("Bavaria Brau", "GmbH"), ("Hanse Marine", "GmbH"), ("Donau Textil", "GmbH"), ("Atelier Lumière", "SARL"),
    ("Rhône Vignobles", "SA"), ("Orange Grove Ventures", "B.V."), ("Sierra Telecom", "S.A."), ("Vesuvio Ceramiche", "S.r.l."),
    ("Matterhorn Precision", "AG"), ("Thames Capital", "plc"), ("Northern Mills", "Ltd"), ("Baltic Timber", "AB"),
    ("Empire Data", "Inc."), ("Windy City Motors", "Inc."), ("Spree Softworks", "GmbH"), ("Isar Medizintechnik", "GmbH"),
    ("Elbe Chemie", "AG"), ("Wiener Kaffeehaus", "GmbH"), ("Seine Publishing", "SA"), ("Presqu'île Études", "SAS"),
    ("Canal Bikes", "B.V."), ("Castilla Agro", "S.A."), ("Navigli Fashion", "S.p.A."), ("Limmat Treuhand", "AG"),
    ("Blackfriars Legal", "LLP"), ("Pennine Outdoor", "Ltd"), ("Gamla Stan Games", "AB"), ("Liberty Biotech", "Inc."),
    ("Prairie Grain", "Inc."), ("Tempelhof Studios", "GmbH"), ("Olympia Sport", "GmbH"), ("Speicherstadt Trading", "GmbH"),
    ("Prater Events", "GmbH"), ("Montmartre Galerie", "SARL"), ("Confluence Ingénierie", "SAS"), ("Jordaan Coffee", "B.V."),
    ("Retiro Clinics", "S.L."), ("Brera Architetti", "S.r.l."), ("Uetliberg Cloud", "AG"), ("Shoreditch Labs", "Ltd"),
    ("Salford Steel", "Ltd"), ("Södermalm Audio", "AB"), ("Battery Park Advisors", "LLC"), ("Wrigley Print", "Inc."),
]

FIRST_NAMES = [
    "Anna", "Lukas", "Sophie", "Mateo", "Elena", "Jonas", "Chloé", "Luca", "Ingrid", "Omar", "Grace", "Hiroshi",
    "Fatima", "Pieter", "Lucía", "Marco", "Astrid", "Daniel", "Amara", "Tomás",
]
LAST_NAMES = [
    "Schneider", "Fischer", "Dubois", "García", "Rossi", "van Dijk", "Andersson", "Smith", "Johnson", "Keller",
    "Novak", "Bianchi", "Laurent", "Jensen", "O'Brien", "Kowalski", "Martin", "Meyer", "Silva", "Nilsson",
]
JOB_TITLES = ["CFO", "Head of Purchasing", "Accounts Payable", "Managing Director", "Procurement Lead", "Office Manager"]

TAX_PREFIX = {"DE": "DE", "AT": "ATU", "FR": "FR", "NL": "NL", "ES": "ES", "IT": "IT", "CH": "CHE", "GB": "GB", "SE": "SE", "US": "US"}
