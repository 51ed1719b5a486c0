"""Analysis of laws: optima under budgets, critical points, frontiers, E/M splits,
iso-output curves, and the uncertainty of optima; Approaches 1 and 2 (envelope, IsoFLOP
profiles) and their cross-check against a fitted law."""

from .crosscheck import CrossCheck as CrossCheck
from .crosscheck import crosscheck as crosscheck
from .design import Design as Design
from .design import design as design
from .envelope import EnvelopeResult as EnvelopeResult
from .envelope import envelope as envelope
from .inverse import InputSolution as InputSolution
from .inverse import iso_curve as iso_curve
from .inverse import solve_input as solve_input
from .isoflop import IsoFlopResult as IsoFlopResult
from .isoflop import isoflop as isoflop
from .optimum import Optimum as Optimum
from .optimum import frontier as frontier
from .optimum import optimum as optimum
from .optimum import parse_budget as parse_budget
from .uncertainty import OptimumDistribution as OptimumDistribution
from .uncertainty import optimum_distribution as optimum_distribution
