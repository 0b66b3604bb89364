"""Shared helpers for the *ML system design, hands-on* course.

Small on purpose: the teaching code lives in the notebooks. This package holds

- the course plan (:mod:`utils.course`): the fifteen notebooks, their titles and times;
- plotting defaults (:func:`utils.plotting.use_course_style`);
- exercise self-checks (:func:`utils.checks.check_answer`);
- knob validation shared by the synthetic worlds (:mod:`utils.validate`);
- one module per synthetic world with known ground truth (added by the case studies).
"""

from utils.checks import check_answer
from utils.plotting import use_course_style

__all__ = ["check_answer", "use_course_style"]
__version__ = "0.1.0"
