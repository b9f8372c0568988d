"""Velocity: how much each milestone of a cycle delivered, compared with the
same milestone of an earlier cycle.

`git` counts the commits without merges between two boundaries of a local
repository, `scores` turns two cycles' counts into expected values and
scores, `spec` reads the release manager's report file for
`storyline velocity report`, and `charts` draws the result as SVG.
"""
