"""Celebrity recognition over a gallery the operator builds (`openrek celebrities add`).

AWS ships its own gallery of famous people; no registry package carries one (nor
portraits licensed for the purpose), so openrek's gallery starts empty and holds
only who the operator adds: a name, links, a known gender, and face vectors (never
the photos).
"""
