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
    ("Nordwind Logistik", "GmbH"),
    ("Helix Pharma", "AG"),
    ("Brightline Media", "Ltd"),
    ("Cobalt Robotics", "Inc."),
    ("Alpenglühen Hotels", "GmbH"),
    ("Maison Verdier", "SAS"),
    ("Tulip Fintech", "B.V."),
    ("Solaria Energía", "S.L."),
    ("Ferro Meccanica", "S.p.A."),
    ("Glacier Insurance", "AG"),
    ("Kestrel Analytics", "Ltd"),
    ("Riverside Foods", "Ltd"),
    ("Fjord Design", "AB"),
    ("Hudson Freight", "LLC"),
    ("Lakeshore Health", "Inc."),
    ("Quantum Leap Software", "GmbH"),
    ("Bavaria Brau", "GmbH"),
    ("Hanse Marine", "GmbH"),
    ("Donau Textil", "GmbH"),
    ("Atelier Lumière", "SARL"),
    ("Rhône Vignobles", "SA"),
    ("Orange Grove Ventures", "B.V."),
    ("Sierra Telecom", "S.A."),
    ("Vesuvio Ceramiche", "S.r.l."),
    ("Matterhorn Precision", "AG"),
    ("Thames Capital", "plc"),
    ("Northern Mills", "Ltd"),
    ("Baltic Timber", "AB"),
    ("Empire Data", "Inc."),
    ("Windy City Motors", "Inc."),
    ("Spree Softworks", "GmbH"),
    ("Isar Medizintechnik", "GmbH"),
    ("Elbe Chemie", "AG"),
    ("Wiener Kaffeehaus", "GmbH"),
    ("Seine Publishing", "SA"),
    ("Presqu'île Études", "SAS"),
    ("Canal Bikes", "B.V."),
    ("Castilla Agro", "S.A."),
    ("Navigli Fashion", "S.p.A."),
    ("Limmat Treuhand", "AG"),
    ("Blackfriars Legal", "LLP"),
    ("Pennine Outdoor", "Ltd"),
    ("Gamla Stan Games", "AB"),
    ("Liberty Biotech", "Inc."),
    ("Prairie Grain", "Inc."),
    ("Tempelhof Studios", "GmbH"),
    ("Olympia Sport", "GmbH"),
    ("Speicherstadt Trading", "GmbH"),
    ("Prater Events", "GmbH"),
    ("Montmartre Galerie", "SARL"),
    ("Confluence Ingénierie", "SAS"),
    ("Jordaan Coffee", "B.V."),
    ("Retiro Clinics", "S.L."),
    ("Brera Architetti", "S.r.l."),
    ("Uetliberg Cloud", "AG"),
    ("Shoreditch Labs", "Ltd"),
    ("Salford Steel", "Ltd"),
    ("Södermalm Audio", "AB"),
    ("Battery Park Advisors", "LLC"),
    ("Wrigley Print", "Inc."),
]

FIRST_NAMES = [
    "Anna",
    "Lukas",
    "Sophie",
    "Mateo",
    "Elena",
    "Jonas",
    "Chloé",
    "Luca",
    "Ingrid",
    "Omar",
    "Grace",
    "Hiroshi",
    "Fatima",
    "Pieter",
    "Lucía",
    "Marco",
    "Astrid",
    "Daniel",
    "Amara",
    "Tomás",
]
LAST_NAMES = [
    "Schneider",
    "Fischer",
    "Dubois",
    "García",
    "Rossi",
    "van Dijk",
    "Andersson",
    "Smith",
    "Johnson",
    "Keller",
    "Novak",
    "Bianchi",
    "Laurent",
    "Jensen",
    "O'Brien",
    "Kowalski",
    "Martin",
    "Meyer",
    "Silva",
    "Nilsson",
]
JOB_TITLES = [
    "CFO",
    "Head of Purchasing",
    "Accounts Payable",
    "Managing Director",
    "Procurement Lead",
    "Office Manager",
]

TAX_PREFIX = {
    "DE": "DE",
    "AT": "ATU",
    "FR": "FR",
    "NL": "NL",
    "ES": "ES",
    "IT": "IT",
    "CH": "CHE",
    "GB": "GB",
    "SE": "SE",
    "US": "US",
}

# --- the catalog -------------------------------------------------------------------------
TAX_RATES = [("VAT 19%", "19.00"), ("VAT 7%", "7.00"), ("No VAT (reverse charge)", "0.00")]
# (code, name, description, unit price in EUR, default tax rate)
PRODUCTS = [
    (
        "FLEET-BASIC",
        "Fleet tracking, Basic",
        "Per vehicle and year: live positions and trip history.",
        "180.00",
        "VAT 19%",
    ),
    (
        "FLEET-PRO",
        "Fleet tracking, Pro",
        "Per vehicle and year: Basic plus driver scoring and alerts.",
        "290.00",
        "VAT 19%",
    ),
    ("ONBOARD", "Onboarding workshop", "One day on site, up to 12 people.", "1450.00", "VAT 19%"),
    ("SUPPORT-24", "Support 24/7", "Yearly: phone and email support around the clock.", "4800.00", "VAT 19%"),
    ("HW-TRACKER", "GPS tracker unit", "Hardware, installed.", "89.90", "VAT 19%"),
    ("TRAINING-ONLINE", "Online training seat", "Per person; recorded courses and a live Q&A.", "120.00", "VAT 7%"),
    ("CONSULT-DAY", "Consulting day", "Process and integration work, per day.", "1100.00", "No VAT (reverse charge)"),
]

# --- the feed: what people said on the records ----------------------------------------
# (customer, days ago, author, post, [(author, hours later, comment)], [who liked it]);
# posted, commented and liked through collaboration.services in this order, then dated
# back to when they were "said", so ids and dates run the same way.
# The approval a rep asks for on one of those customers: (customer, reason).
FEED_APPROVAL = (
    "Helix Pharma",
    "Renewal order of 18,000.00 would take them past their credit limit; they have paid on time since the "
    "outage was credited.",
)
FEED_THREADS = [
    (
        "Helix Pharma",
        20,
        "rep",
        "Customer says invoice 142 is wrong: the service outage in March was never credited. "
        "@clerk please hold reminders until we sort it out.",
        [
            ("clerk", 2, "Reminders paused for Helix. @rep can you get me the outage dates for the credit note?"),
            ("rep", 5, "Outage was 3–5 March, ticket SR-2291. Details are in the shared folder."),
        ],
        ["salesmanager"],
    ),
    (
        "Nordwind Logistik",
        18,
        "rep2",
        "Renewal call went well: they want a 3-year term at 22% off. @salesmanager that needs your approval, "
        "the quote draft is ready.",
        [
            ("salesmanager", 3, "22% is a lot for three years. Can we do 18% with quarterly billing?"),
            ("rep2", 26, "They accept 18% if payment terms stay at 30 days net."),
        ],
        ["rep"],
    ),
    (
        "Cobalt Robotics",
        16,
        "clerk",
        "Payment of 4,200.00 received for INV-2026-000118, thanks for chasing. Two invoices still open, "
        "35 days overdue.",
        [("rep", 4, "They moved to a new AP system last month; I've added their new AP contact.")],
        ["financemanager"],
    ),
    (
        "Glacier Insurance",
        15,
        "financemanager",
        "Raising the credit limit to 100,000.00: three years of on-time payment and the new framework "
        "contract. @rep FYI before you quote the expansion.",
        [("rep", 1, "Great, the quote goes out tomorrow.")],
        ["rep", "salesmanager"],
    ),
    (
        "Maison Verdier",
        13,
        "rep",
        "They asked for invoices in French and a PO number on every invoice from now on. PO for Q2 is 4500-7781.",
        [("clerk", 6, "Noted, the PO goes on the next billing run.")],
        [],
    ),
    (
        "Tulip Fintech",
        12,
        "clerk",
        "Dunning level 2 went out today: 12,480.00 overdue across three invoices. @rep2 anything I should "
        "know before level 3?",
        [
            ("rep2", 2, "They're mid-negotiation on the renewal. Please hold level 3 until the end of the month."),
            ("financemanager", 4, "OK to hold until the 30th, not longer."),
        ],
        ["clerk"],
    ),
    (
        "Ferro Meccanica",
        10,
        "rep2",
        "Delivery complaint: two pallets arrived damaged. They will short-pay invoice 151 by 1,150.00 "
        "until the claim is settled.",
        [
            ("clerk", 3, "@financemanager do we book this as a dispute or wait for the carrier?"),
            ("financemanager", 5, "Book it as a dispute, so dunning skips it."),
        ],
        [],
    ),
    (
        "Kestrel Analytics",
        9,
        "salesmanager",
        "Kestrel is our biggest upsell chance this quarter. @rep @rep2 let's meet Thursday to split the account plan.",
        [("rep", 1, "Thursday 10:00 works for me.")],
        ["rep2"],
    ),
    (
        "Riverside Foods",
        7,
        "rep",
        "New head of purchasing: Grace Johnson. The old AP address bounces; contacts are updated.",
        [],
        ["clerk"],
    ),
    (
        "Quantum Leap Software",
        6,
        "clerk",
        "Bank details changed per their letter. @financemanager please confirm by phone before the next "
        "payment run (fraud check).",
        [("financemanager", 2, "Called their CFO: confirmed. Go ahead.")],
        ["clerk"],
    ),
    (
        "Hudson Freight",
        4,
        "rep2",
        "Verbal yes on the fleet tracking deal, 48,000.00 a year. Contract by Friday.",
        [
            ("salesmanager", 1, "Nice work!"),
            ("clerk", 3, "Their credit limit is 25,000.00: @rep2 that order will need a manager's approval."),
        ],
        ["salesmanager", "financemanager"],
    ),
    (
        "Alpenglühen Hotels",
        3,
        "financemanager",
        "Writing off the 2019 balance (840.00): the company was restructured. @admin can you archive the old contacts?",
        [("admin", 2, "Done, two old contacts archived.")],
        [],
    ),
    (
        "Brightline Media",
        2,
        "rep",
        "They pay 40 days late on average. I'm proposing 14 days net on the next order: @clerk does that match "
        "what you see?",
        [("clerk", 3, "Yes: 41 days on average over the last six invoices. 14 days net makes sense.")],
        ["salesmanager"],
    ),
    (
        "Helix Pharma",
        1,
        "clerk",
        "Credit note for the March outage issued, 2,300.00. Reminders back on from Monday. @rep FYI",
        [],
        ["rep"],
    ),
]

# Who follows what beyond what they own, post on or are mentioned on.
FEED_FOLLOWS = {
    "clerk": ["Cobalt Robotics", "Tulip Fintech", "Ferro Meccanica", "Brightline Media"],
    "financemanager": ["Glacier Insurance", "Tulip Fintech", "Quantum Leap Software"],
    "salesmanager": ["Kestrel Analytics", "Nordwind Logistik", "Hudson Freight"],
    "admin": ["Alpenglühen Hotels", "Helix Pharma"],
}

# --- the pipeline: 18 months of deals ----------------------------------------------------
# What a deal is named after (the product it is mostly about), and the reasons deals are lost.
DEAL_NAMES = [
    "Fleet rollout",
    "Fleet tracking renewal",
    "Tracker upgrade",
    "Driver training",
    "Support contract",
    "Integration project",
    "Pilot, two depots",
    "Expansion to new sites",
]
# (product code, quantity range low, high, discount % options) per deal name, by index.
DEAL_LINES = [
    [("FLEET-BASIC", 20, 120, ("0", "5", "10")), ("HW-TRACKER", 20, 120, ("0",)), ("ONBOARD", 1, 2, ("0",))],
    [("FLEET-PRO", 30, 200, ("5", "10", "12.5")), ("SUPPORT-24", 1, 1, ("0", "10"))],
    [("HW-TRACKER", 40, 250, ("0", "7.5")), ("CONSULT-DAY", 1, 3, ("0",))],
    [("TRAINING-ONLINE", 10, 60, ("0", "15")), ("ONBOARD", 1, 1, ("0",))],
    [("SUPPORT-24", 1, 2, ("0", "5"))],
    [("CONSULT-DAY", 4, 20, ("0", "10")), ("ONBOARD", 1, 2, ("0",))],
    [("FLEET-BASIC", 5, 15, ("20",)), ("HW-TRACKER", 5, 15, ("0",))],
    [("FLEET-PRO", 50, 300, ("10", "15")), ("HW-TRACKER", 50, 300, ("5",)), ("CONSULT-DAY", 2, 5, ("0",))],
]
LOST_REASONS = [
    "Went with a cheaper competitor",
    "Budget frozen until next year",
    "No decision: project postponed",
    "Chose to build in house",
    "Lost the tender on price",
]
NEXT_STEPS = [
    "Demo for the fleet managers",
    "Send revised pricing",
    "Call the CFO about terms",
    "Site visit at the main depot",
    "Wait for the board meeting",
    "Pilot results review",
]
# Rough exchange rates from EUR list prices, for customers billed in another currency.
DEMO_RATES = {"EUR": "1", "USD": "1.08", "GBP": "0.85", "CHF": "0.95", "SEK": "11.4", "PLN": "4.3", "DKK": "7.46"}

# --- leads: (person, company, source, days ago, what became of it) ----------------------
# "new", "working", "qualified", "disqualified:<reason>", or "converted" (a new customer
# and a deal) / "converted:<existing customer>" (matched by its email domain).
LEADS = [
    ("Lena Vogt", "Nordlicht Logistik", "web", 2, "new"),
    ("Marco Bianchi", "Trasporti Veloci", "event", 4, "new"),
    ("Sophie Martin", "Transports Martin", "referral", 6, "working"),
    ("Jonas Berg", "Berg & Söhne Spedition", "cold_call", 9, "working"),
    ("Emma Clarke", "Clarke Couriers", "web", 12, "qualified"),
    ("Piotr Nowak", "Nowak Transport", "partner", 15, "working"),
    ("Anna Lindqvist", "Lindqvist Frakt", "event", 21, "qualified"),
    ("Tom Baker", "Baker Bros Removals", "web", 30, "disqualified:Fleet of two vans; too small for us"),
    ("Clara Weiss", "Weiss Kurierdienst", "web", 45, "converted"),
    ("Hugo Fernández", "Fernández Distribución", "referral", 70, "converted"),
    ("Julia Roth", "Rothmann Bau", "cold_call", 95, "disqualified:Bought a competitor's system last year"),
    ("Oliver Kent", "Kent Freight", "event", 130, "converted"),
    ("Mia Schulz", "Schulz Entsorgung", "partner", 180, "disqualified:No budget before 2028"),
    ("Lucas Girard", "Girard Express", "web", 240, "converted"),
    ("Nina Petrova", "Petrova Cargo", "web", 320, "working"),
    ("Erik Hansen", "Hansen Shipping", "referral", 400, "converted"),
    ("Paula Costa", "Costa Frotas", "event", 480, "disqualified:Wanted hardware only"),
]

# --- billing -----------------------------------------------------------------------------
VOID_REASON = "Issued to the wrong legal entity; issued again"
CREDIT_REASON = "One unit returned unused"

# How each customer pays (by its place in COMPANIES, cycling): the aging, the risk cards
# and the credit holds come out of these habits.
PAYERS = ["prompt", "late", "prompt", "mixed", "instalments", "prompt", "stretched", "mixed", "late", "prompt"]
BOUNCED_REASON = "Cheque returned unpaid by the bank"
HOLD_REASON = "Two invoices disputed with their purchasing team; hold until the review call"
WRITE_OFF_REASON = "Paid short by the bank's transfer fees"

# --- recurring billing: plans the demo's billing run invoices ---------------------------
# (customer, plan name, interval, first period starts N months before this month's 1st,
#  last period started M months before it (None: runs on), auto-issue,
#  [(product code, line description, quantity, unit price in EUR, discount %)]).
# Kept by the finance manager; the timeline ends with one billing run as of today,
# which bills each plan's due period: issued where auto-issue is on, else a draft.
BILLING_PLANS = [
    ("Nordwind Logistik", "Support 24/7, monthly", "monthly", 0, None, True,
     [("SUPPORT-24", "Support 24/7, monthly", 1, "400.00", "0")]),
    ("Helix Pharma", "Fleet tracking Pro licence, quarterly", "quarterly", 2, None, False,
     [("FLEET-PRO", "Fleet tracking Pro, per vehicle and quarter", 40, "72.50", "10")]),
    ("Brightline Media", "Tracker maintenance, yearly", "yearly", 10, None, True,
     [("HW-TRACKER", "Tracker maintenance, per unit and year", 60, "12.00", "0"),
      ("CONSULT-DAY", "Yearly on-site check", 1, "1100.00", "0")]),
    ("Kestrel Analytics", "Pilot support (ended)", "monthly", 1, 1, True,
     [("SUPPORT-24", "Support 24/7 during the pilot", 1, "450.00", "0")]),
]  # fmt: skip

# --- dunning (issue 11) ---
DISPUTE_REASON = "Training days billed twice: the customer says only one session took place"
PROMISE_REFERENCE = "As promised on the phone"
CALL_NOTE = "Spoke with their accounts payable: the invoice is approved and goes out with the next payment run"
HOLDING_DEAL_NAME = "Three-year renewal and expansion"
HOLDING_DEAL_NEXT_STEP = "Contract with their legal team; no payment chasing until it is signed"
