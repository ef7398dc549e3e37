"""Speed and memory benchmarks (numbers and ratios measured side by side
in one run) and the prepared GPU check."""
from .gpu_check import markdown as gpu_check_markdown
from .gpu_check import run_gpu_check
from .peak_memory import PEAK_STEPS, peak_memory_benchmark
from .per_image import (dense_walk, infer_maps_benchmark, irn_walk_benchmark,
                        pseudo_labels_benchmark, random_walk_benchmark)
from .reports import (images_per_second_report, irn_walk_report,
                      peak_memory_report, pseudo_labels_report,
                      train_step_report)
from .timing import amp_config
from .train_step import train_step_benchmark

__all__ = [
    'train_step_benchmark', 'infer_maps_benchmark', 'pseudo_labels_benchmark',
    'random_walk_benchmark', 'irn_walk_benchmark', 'dense_walk',
    'peak_memory_benchmark', 'PEAK_STEPS', 'amp_config', 'run_gpu_check',
    'gpu_check_markdown', 'train_step_report', 'images_per_second_report',
    'irn_walk_report', 'pseudo_labels_report', 'peak_memory_report'
]
