# Names are real-world spellings (dotless i, typographic apostrophes) on purpose;
# the randomness is for test data, not secrets.
# ruff: noqa: E501, RUF001, S311
"""
Realistic signer names for measuring how often impersonation matching holds
an honest person: the generator's names (generate_signatures) plus common
given and family names from more cultures, including ones that sit near
famous names (Sam, Paul, Taylor, Greta; Altmann, McCarthy, Smith, Torres,
del Toro, Ma, Miranda) but never a watched person's own family name,
and the shapes people really type: a middle name, a double family name, a
title, initials, "Family, Given".
"""

from __future__ import annotations

import random

from signatures.management.commands.generate_signatures import FIRST_NAMES, LAST_NAMES

MORE_GIVEN_NAMES = (
    # English-speaking countries
    "James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas", "Charles",
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen",
    "Paul", "Mark", "Steven", "Andrew", "Kevin", "Brian", "George", "Edward", "Ronald", "Timothy",
    "Emily", "Emma", "Olivia", "Sophie", "Grace", "Hannah", "Rachel", "Rebecca", "Laura", "Megan",
    "Samuel", "Samantha", "Sam", "Taylor", "Tyler", "Greta", "Meryl", "Merrill", "Gregory", "Greg",
    # German, Dutch, Scandinavian
    "Lukas", "Felix", "Maximilian", "Johanna", "Katharina", "Anneliese", "Wolfgang", "Ulrike", "Sven", "Ingrid",
    "Lars", "Astrid", "Henrik", "Freja", "Pieter", "Femke", "Daan", "Sanne", "Björk", "Guðrún",
    # Romance languages
    "Guillermo", "Giulia", "Francesca", "Matteo", "Lorenzo", "Alessandro", "Chiara", "Giuseppe", "Carmen", "Javier",
    "Diego", "Valentina", "Camila", "Mateo", "Santiago", "Pilar", "Rocío", "Guilherme", "Thiago", "Luana",
    "Mathilde", "Baptiste", "Margaux", "Théo", "Lucie", "Manon", "Hugo", "Élodie", "Yann", "Gaëlle",
    # Eastern Europe
    "Katarzyna", "Piotr", "Agnieszka", "Tomasz", "Marek", "Petra", "Jana", "Milan", "Dragana", "Nikola",
    # Africa
    "Chimamanda", "Chukwuemeka", "Adaeze", "Babajide", "Folake", "Kofi", "Abena", "Wanjiru", "Kamau", "Amara",
    "Tendai", "Nomvula", "Themba", "Fatoumata", "Moussa", "Aminata", "Yaw", "Efua", "Nnamdi", "Ifeoma",
    # Middle East, South Asia (in Latin letters, as many write them)
    "Mohammed", "Ahmed", "Fatima", "Aisha", "Omar", "Layla", "Yusuf", "Mariam", "Hassan", "Zainab",
    "Priya", "Arjun", "Ananya", "Rohan", "Aditi", "Vikram", "Kavya", "Sanjay", "Deepika", "Rahul",
    # East and South-East Asia (in Latin letters)
    "Hiroshi", "Yuki", "Haruto", "Yui", "Takeshi", "Akiko", "Hirokazu", "Hayato", "Kenji", "Naoko",
    "Wei", "Li", "Xiaoming", "Mei", "Jun", "Min-jun", "Seo-yeon", "Ji-woo", "Thanh", "Linh",
    # Other scripts
    "Алексей", "Мария", "Ευάγγελος", "Σοφία", "יוסף", "מרים", "أحمد", "سارة", "अर्जुन", "ヒロシ",
)  # fmt: skip
MORE_FAMILY_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Thomas",
    "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall",
    "McCarthy", "McCarter", "McCartan", "MacKenzie", "McDonald", "O’Brien", "Murphy", "Kelly", "Byrne", "Ryan",
    "Altmann", "Aldman", "Hartmann", "Zimmermann", "Neumann", "Schmidt", "Fischer", "Weber", "Wagner",
    "Swiftson", "Streeter", "Gerwin", "Gerber", "Gerhardt", "Torres", "Del Toro", "Toledo", "Torossian", "Altieri",
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
    "Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira", "Almeida", "Ferreira", "Rodrigues", "Carvalho",
    "Bernard", "Petit", "Durand", "Leroy", "Roux", "Mercier", "Blanc", "Guerin", "Faure", "Chevalier",
    "Jansen", "De Vries", "Van den Berg", "Bakker", "Visser", "Hansen", "Johansson", "Nilsson", "Larsen", "Andersen",
    "Nowak", "Kowalczyk", "Lewandowski", "Horvat", "Kovačević", "Petrović", "Popescu", "Ionescu", "Nagy", "Tóth",
    "Okafor", "Adeyemi", "Eze", "Nwosu", "Boateng", "Owusu", "Kamara", "Diallo", "Traoré", "Mwangi",
    "Khan", "Ahmed", "Hussain", "Rahman", "Patel", "Singh", "Kumar", "Gupta", "Reddy", "Iyer",
    "Tanaka", "Watanabe", "Yamamoto", "Nakamura", "Kobayashi", "Miyazawa", "Kore", "Eda", "Ito", "Kato",
    "Chen", "Wang", "Zhang", "Liu", "Huang", "Kim", "Park", "Choi", "Nguyen", "Tran",
    "Ma", "Lin", "Mirza", "Miranda", "Adeleke", "Guðmundsson", "Jónsdóttir", "Stefánsson", "Einarsdóttir", "Sigurðsson",
    "Петров", "Соколов", "Παπαδάκης", "Γεωργίου", "Mizrahi", "Friedman", "حداد", "Haddad", "Rao", "Sato",
)  # fmt: skip
TITLES = ("Dr.", "Prof.", "Dr", "Mr", "Ms", "Mme", "Herr")
POST_NOMINALS = ("PhD", "MD", "Jr.", "OBE")

GIVEN_NAMES = tuple(dict.fromkeys((*FIRST_NAMES, *MORE_GIVEN_NAMES)))
FAMILY_NAMES = tuple(dict.fromkeys((*LAST_NAMES, *MORE_FAMILY_NAMES)))


def realistic_names(count: int, *, seed: int) -> list[str]:
    """`count` names as signers type them, the same ones for the same seed."""
    rnd = random.Random(seed)
    names = []
    for _ in range(count):
        given, family = rnd.choice(GIVEN_NAMES), rnd.choice(FAMILY_NAMES)
        shape = rnd.random()
        if shape < 0.12:
            name = f"{given} {rnd.choice(GIVEN_NAMES)} {family}"
        elif shape < 0.18:
            name = f"{given} {family} {rnd.choice(FAMILY_NAMES)}"
        elif shape < 0.22:
            name = f"{rnd.choice(TITLES)} {given} {family}"
        elif shape < 0.24:
            name = f"{given} {family}, {rnd.choice(POST_NOMINALS)}"
        elif shape < 0.27:
            name = f"{given[0]}. {family}"
        elif shape < 0.30:
            name = f"{family}, {given}"
        else:
            name = f"{given} {family}"
        names.append(name)
    return names
