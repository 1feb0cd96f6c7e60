"""Cohort mode: a mentor's read-only view of every learner's checklist under one cohort page.

`roster` finds the learners (on its own schedule), `reading` syncs each one read-only into its own
state folder, `grid` (pure) turns a learner's state into the numbers `sync.progress` gives, and
`digest` / `deliver` make and send the weekly cohort digest. `run` ties them together for the CLI.
"""
