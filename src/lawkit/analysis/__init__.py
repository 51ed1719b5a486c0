"""Analysis of laws: optima under budgets, critical points, frontiers, E/M splits."""

from .optimum import Optimum as Optimum
from .optimum import frontier as frontier
from .optimum import optimum as optimum
from .optimum import parse_budget as parse_budget
from .uncertainty import optimum_distribution as optimum_distribution
from .inverse import solve_input as solve_input
from .inverse import iso_curve as iso_curve
