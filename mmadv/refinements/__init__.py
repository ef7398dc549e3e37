from .base import (REFINEMENTS, ImageFolder, ModelRefinement, Refinement,
                   build_refinement)
from .random_walk import RandomWalkSettings  # noqa: I001 (rows in this order)
from .irn import IRNSettings
from .dense_crf import DenseCRFMaps
from .paper_protocol import IRNPaper, RandomWalkPaper

__all__ = [
    'REFINEMENTS', 'ImageFolder', 'ModelRefinement', 'Refinement',
    'build_refinement', 'RandomWalkSettings', 'IRNSettings', 'DenseCRFMaps',
    'RandomWalkPaper', 'IRNPaper'
]
