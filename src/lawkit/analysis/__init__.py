"""Analysis of laws: optima under budgets, critical points, frontiers, E/M splits,
iso-output curves, and the uncertainty of optima."""

from .inverse import InputSolution as InputSolution
from .inverse import iso_curve as iso_curve
from .inverse import solve_input as solve_input
from .optimum import Optimum as Optimum
from .optimum import frontier as frontier
from .optimum import optimum as optimum
from .optimum import parse_budget as parse_budget
from .uncertainty import OptimumDistribution as OptimumDistribution
from .uncertainty import optimum_distribution as optimum_distribution
