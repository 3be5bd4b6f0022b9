"""The pages of a run: each executed notebook in two editions (nbconvert), the landing page from
the stages' outputs and the committed snapshot ``docs/``; they compute nothing.
"""
