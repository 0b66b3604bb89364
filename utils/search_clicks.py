"""The click model of the search world (see ``datasets/search.md``, "Users").

A user who sees a page of up to ten results behaves in three stages, each a separate function:

1. **Examination** (position bias): rank ``r`` is looked at with probability ``r ** -position_bias``
   (:func:`examination_curve`), as long as the user has not left the page.
2. **Click once examined**: the result's *attractiveness* (:func:`attractiveness`) is a logistic
   function of its relevance grade plus a snippet term per (query, document) pair, a clickiness per
   query and a clickiness per user (three user types). On top of it, **trust bias**: an examined
   result the user would not have clicked is still clicked with probability
   ``trust_bias * examination(r)`` — users trust the top of the page (Agarwal et al. 2019).
3. **Cascade**: after a click on a result of grade ``g`` the user is satisfied and leaves with
   probability ``cascade_stop * g / 4``; otherwise they read on (a dependent-click model).

:func:`simulate_clicks` draws clicks; :func:`success_probability` gives the exact probability of
at least one click (the cascade only acts after a click, so it does not change that probability).
"""

from __future__ import annotations

import numpy as np

#: Logit of attractiveness = BASE + SLOPE * grade (+ pair, query and user terms).
ATTRACT_BASE = -3.0
ATTRACT_SLOPE = 0.85
#: Clickiness of the three user types (logit offsets) and their shares of searches.
USER_OFFSETS = np.array([-0.8, 0.0, 0.8])
USER_SHARES = np.array([0.3, 0.4, 0.3])


def examination_curve(position_bias: float, n_ranks: int = 10) -> np.ndarray:
    """Planted P(examine | rank) for ranks 1..n_ranks: ``rank ** -position_bias`` (1.0 at rank 1)."""
    return np.arange(1, n_ranks + 1, dtype=float) ** -position_bias


def click_curve(n_grades: int = 5) -> np.ndarray:
    """P(click | examined, grade) of an average pair, query and user (no trust bias): grades 0..4."""
    return 1.0 / (1.0 + np.exp(-(ATTRACT_BASE + ATTRACT_SLOPE * np.arange(n_grades, dtype=float))))


def attractiveness(grades: np.ndarray, pair_logit: np.ndarray, user_offset: np.ndarray | float = 0.0) -> np.ndarray:
    """P(click | examined) before trust bias: logistic in the grade plus pair/query and user logits."""
    return 1.0 / (1.0 + np.exp(-(ATTRACT_BASE + ATTRACT_SLOPE * grades + pair_logit + user_offset)))


def simulate_clicks(
    grades: np.ndarray,
    pair_logit: np.ndarray,
    valid: np.ndarray,
    examination: np.ndarray,
    trust_bias: float,
    cascade_stop: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Clicks and latent examination, (n, k) bool each, for n pages of k slots (``valid`` = filled)."""
    n, k = grades.shape
    user = rng.choice(len(USER_SHARES), size=n, p=USER_SHARES)
    attract = attractiveness(grades, pair_logit, USER_OFFSETS[user][:, None])
    trust = trust_bias * examination[:k]
    p_click = attract + (1.0 - attract) * trust
    leave = cascade_stop * grades / 4.0
    u_exam, u_click, u_leave = rng.random((3, n, k))
    active = np.ones(n, dtype=bool)
    examined = np.zeros((n, k), dtype=bool)
    clicked = np.zeros((n, k), dtype=bool)
    for slot in range(k):
        examined[:, slot] = active & valid[:, slot] & (u_exam[:, slot] < examination[slot])
        clicked[:, slot] = examined[:, slot] & (u_click[:, slot] < p_click[:, slot])
        active &= ~(clicked[:, slot] & (u_leave[:, slot] < leave[:, slot]))
    return clicked, examined


def success_probability(
    grades: np.ndarray, pair_logit: np.ndarray, valid: np.ndarray, examination: np.ndarray, trust_bias: float
) -> np.ndarray:
    """Exact P(at least one click) per page, averaged over the user types (shape (n,))."""
    k = grades.shape[1]
    no_click = np.zeros(grades.shape[0])
    for offset, share in zip(USER_OFFSETS, USER_SHARES, strict=True):
        attract = attractiveness(grades, pair_logit, offset)
        p_click = (attract + (1.0 - attract) * trust_bias * examination[:k]) * examination[:k] * valid
        no_click += share * np.prod(1.0 - p_click, axis=1)
    return 1.0 - no_click
