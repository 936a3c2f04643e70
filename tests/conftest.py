"""Hypothesis profiles: ``HYPOTHESIS_PROFILE=ci`` (what ``.ci/run`` sets) draws the
same examples on every run, so that CI is reproducible; the default profile draws
new ones each run, to find new cases locally."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
