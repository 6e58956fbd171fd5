"""Use cases: one function each, domain rules plus repositories inside one transaction.

Services take IDs and plain values (never discord objects) and raise ``UserError`` for anything a
member should be told.
"""
