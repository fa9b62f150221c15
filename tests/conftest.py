"""Suite-wide settings: hypothesis profiles.

`make test` runs the default profile (quick, deterministic per run); `make fuzz` sets
HYPOTHESIS_PROFILE=fuzz for long runs. No deadline: shared 2-core machines make timings noisy,
and speed is measured by `make bench`, never by tests.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=3000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
