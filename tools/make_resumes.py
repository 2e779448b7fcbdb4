"""Write the text example's sample data set: short resume snippets labelled with the role they fit.

    python tools/make_resumes.py > "{{cookiecutter.project_slug}}/data/resumes.csv"

Every phrase below was written by hand for this template (CC0). A seeded generator joins an opening,
one or two of the role's own phrases and one phrase any role might write; about half the snippets
also borrow a phrase from a neighbouring role (data scientists and engineers both write Python,
accountants and sales staff both talk of forecasts and clients, nurses and teachers both teach and
care), so that the roles share vocabulary and a held-out split is not classified perfectly.
"""

import csv
import random
import sys

SNIPPETS_PER_ROLE = 60
SEED = 20261126

OPENINGS = {
    "data_scientist": [
        "Data scientist with {years} years of experience",
        "Machine learning specialist, {years} years in industry",
        "Analytics lead with a background in statistics",
        "Applied scientist who enjoys messy real-world data",
        "Former physicist turned data scientist",
        "Quantitative analyst moving into machine learning",
    ],
    "software_engineer": [
        "Software engineer with {years} years of experience",
        "Backend developer who has shipped products to millions of users",
        "Full-stack engineer at a small startup",
        "Senior developer and occasional team lead",
        "Platform engineer, {years} years building internal tools",
        "Self-taught programmer turned professional engineer",
    ],
    "nurse": [
        "Registered nurse with {years} years on busy wards",
        "Critical care nurse, {years} years in intensive care",
        "Community nurse visiting patients at home",
        "Paediatric nurse with a calm bedside manner",
        "Charge nurse on a surgical unit",
        "Newly qualified nurse after a placement in emergency care",
    ],
    "accountant": [
        "Chartered accountant with {years} years of experience",
        "Financial accountant in a mid-sized manufacturing firm",
        "Tax advisor for small businesses and sole traders",
        "Management accountant, {years} years in retail",
        "Auditor who moved into industry",
        "Bookkeeper studying for a professional accounting qualification",
    ],
    "teacher": [
        "Secondary school teacher with {years} years in the classroom",
        "Primary teacher and early years coordinator",
        "Maths teacher who loves a difficult question",
        "English teacher and head of year",
        "Science teacher, {years} years in state schools",
        "Language teacher who has taught abroad",
    ],
    "sales": [
        "Sales representative with {years} years of experience",
        "Account executive selling software to mid-market companies",
        "Business development manager in logistics",
        "Field sales rep covering the north-west region",
        "Inside sales lead with a consistent record against quota",
        "Retail sales manager moving into business-to-business sales",
    ],
}

OWN = {
    "data_scientist": [
        "built churn prediction models in Python with scikit-learn",
        "ran A/B tests and explained the results to product managers",
        "trained gradient boosting models on millions of rows",
        "designed features from clickstream and transaction data",
        "wrote statistical analyses of experiments in R and Python",
        "deployed a recommendation model that lifted engagement",
        "cleaned and joined data from a dozen messy sources",
        "built dashboards of model performance and data drift",
        "used natural language processing to classify support tickets",
        "forecast demand with time series models",
        "published research on causal inference",
        "tuned hyperparameters and validated models with cross-validation",
        "explored data in notebooks with pandas and matplotlib",
        "built a fraud detection model with a precision of over ninety percent",
        "taught colleagues the basics of regression and hypothesis testing",
    ],
    "software_engineer": [
        "designed REST APIs in Go and Python",
        "wrote services in Java with Spring Boot",
        "built React front ends with TypeScript",
        "set up continuous integration and automated deployments",
        "migrated a monolith to microservices on Kubernetes",
        "reduced page load time by half through caching",
        "reviewed code and mentored junior developers",
        "wrote unit and integration tests for legacy code",
        "designed database schemas in PostgreSQL",
        "debugged production incidents and wrote postmortems",
        "maintained infrastructure as code with Terraform",
        "built a mobile app in Kotlin",
        "contributed to open source libraries",
        "improved the reliability of a payments system",
        "optimised slow queries and background jobs",
    ],
    "nurse": [
        "administered medication and monitored vital signs",
        "cared for patients after surgery",
        "assessed patients on admission and planned their care",
        "managed wound care and infection control",
        "worked twelve-hour shifts in a busy emergency department",
        "supported families through difficult diagnoses",
        "kept accurate patient records and handover notes",
        "responded to cardiac arrests as part of the resuscitation team",
        "cared for ventilated patients in intensive care",
        "took blood samples and inserted cannulas",
        "coordinated discharges with doctors and social workers",
        "holds current basic and advanced life support certificates",
        "looked after elderly patients with dementia",
        "triaged patients by the urgency of their symptoms",
        "managed a ward of twenty-eight beds on night shifts",
    ],
    "accountant": [
        "prepared monthly management accounts and variance analysis",
        "reconciled bank statements and balance sheet accounts",
        "led the year-end close and the external audit",
        "filed corporate tax returns and VAT returns",
        "managed accounts payable and accounts receivable",
        "built budgets and cash flow forecasts in Excel",
        "implemented a new accounting system",
        "reviewed expense claims and internal controls",
        "prepared statutory financial statements",
        "advised clients on tax planning",
        "processed payroll for two hundred employees",
        "audited the accounts of charities and small companies",
        "tracked fixed assets and depreciation",
        "reduced month-end close from ten days to five",
        "reported to the finance director on costs and margins",
    ],
    "teacher": [
        "planned and taught lessons to classes of thirty pupils",
        "prepared students for national exams",
        "marked homework and gave written feedback",
        "differentiated lessons for pupils with special educational needs",
        "ran the school's debating club",
        "met parents at parents' evenings",
        "wrote the scheme of work for the department",
        "managed behaviour in challenging classrooms",
        "organised school trips and residential visits",
        "raised exam results in the department for three years running",
        "tutored small groups after school",
        "used formative assessment to track pupil progress",
        "taught reading and phonics to young children",
        "led assemblies and pastoral care for a year group",
        "designed practical experiments for the science curriculum",
    ],
    "sales": [
        "exceeded quota for eight consecutive quarters",
        "grew a territory from nothing to two million in annual revenue",
        "prospected new accounts through cold calls and emails",
        "negotiated contracts and closed enterprise deals",
        "managed a pipeline of leads in Salesforce",
        "built relationships with key decision makers",
        "ran product demonstrations for prospective customers",
        "attended trade shows to generate leads",
        "upsold existing customers to premium plans",
        "won the regional award for new business",
        "handled objections and pricing discussions",
        "renewed contracts with our largest accounts",
        "trained new sales hires on the sales playbook",
        "worked on commission with a strong closing rate",
        "opened a new market in Scandinavia",
    ],
}

# Phrases any role might write.
SHARED = [
    "strong communication skills",
    "works well under pressure",
    "managed a team of five",
    "trained and supported new colleagues",
    "prepared weekly reports for management",
    "worked closely with stakeholders across the organisation",
    "improved processes and saved time for the whole team",
    "fluent in English and Spanish",
    "organised, reliable and detail oriented",
    "comfortable presenting to senior leaders",
    "volunteers at a local charity",
    "keen to take on more responsibility",
]

# Each role's neighbours: roles whose phrases it may borrow.
NEIGHBOURS = {
    "data_scientist": ["software_engineer", "accountant"],
    "software_engineer": ["data_scientist"],
    "nurse": ["teacher"],
    "accountant": ["data_scientist", "sales"],
    "teacher": ["nurse", "sales"],
    "sales": ["accountant", "teacher"],
}


def snippet(role: str, generator: random.Random) -> str:
    """An optional opening, then the role's own phrases, maybe a neighbour's, and a shared one, in any order."""
    middle = generator.sample(OWN[role], generator.choice([1, 1, 2]))
    if generator.random() < 0.5:
        middle.append(generator.choice(OWN[generator.choice(NEIGHBOURS[role])]))
    middle.append(generator.choice(SHARED))
    generator.shuffle(middle)
    if generator.random() < 0.7:
        middle.insert(0, generator.choice(OPENINGS[role]).format(years=generator.randint(2, 15)))
    return " ".join(f"{sentence[0].upper()}{sentence[1:]}." for sentence in middle)


def main() -> None:
    generator = random.Random(SEED)  # noqa: S311 -- sample data, not a secret
    rows = [(snippet(role, generator), role) for role in OPENINGS for _ in range(SNIPPETS_PER_ROLE)]
    generator.shuffle(rows)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["text", "label"])
    writer.writerows(rows)


if __name__ == "__main__":
    main()
