"""How "highest rated" orders templates: a Bayesian average, not the plain mean.

The plain mean ranks a template with a single five-star review above one with a hundred
four-star reviews, which is the opposite of what people mean by "highest rated": one
opinion says little, a hundred say a lot. The Bayesian average starts every template at
`prior_count` imaginary ratings of `prior_mean` and lets real ratings pull it away from
there, so a score moves only as far as the evidence for it:

    (prior_mean * prior_count + avg * count) / (prior_count + count)

With the registry's prior (3.0 from 5 ratings, `contracts.community.RATING_PRIOR_*`), one
five gives 3.33 and a hundred fours give 3.95. With no ratings a template sits at the prior,
below anything rated well by several people and above anything rated badly. The same
formula is easy to write in SQL, where the registry sorts by it.
"""

from __future__ import annotations

import math


def bayesian(avg: float, count: int, prior_mean: float, prior_count: float) -> float:
    """The rating a template is sorted by; `avg` is ignored when `count` is 0."""
    if count < 0 or prior_count <= 0:
        raise ValueError("count must not be negative and prior_count must be positive")
    if not (math.isfinite(avg) and math.isfinite(prior_mean)):
        raise ValueError("ratings must be finite numbers")
    if count == 0:
        return float(prior_mean)
    return (prior_mean * prior_count + avg * count) / (prior_count + count)
