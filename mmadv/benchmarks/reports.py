"""The console lines of each benchmark's results (``tools/analysis_tools/
benchmark.py`` prints them; the results themselves go to ``--json``)."""
from prettytable import PrettyTable


def train_step_report(results: dict) -> str:
    """Both configs' iteration time, images/s, phases and peaks, then the
    method / baseline ratios."""
    lines = []
    for role in ('method', 'baseline'):
        row = results[role]
        phases = ', '.join(
            f'{k[:-2]} {v * 1000:.1f} ms' for k, v in row.items()
            if k.endswith('_s') and k != 'iteration_s')
        peaks = ', '.join(
            f'{k[:-9]} {v:.0f} MiB' for k, v in row.items()
            if k.endswith('_peak_mib') and v is not None)
        lines.append(f'{role:8s} {row["config"]}: iteration '
                     f'{row["iteration_s"] * 1000:.1f} ms '
                     f'({row["images_per_second"]:.2f} img/s; {phases})' +
                     (f'; peak {peaks}' if peaks else ''))
    lines.append(f'ratio method / baseline: iteration '
                 f'{results["ratio_iteration"]:.2f}x, localizer phase '
                 f'{results["ratio_localizer_phase"]:.2f}x '
                 f'({results["setup"]})')
    return '\n'.join(lines)


def images_per_second_report(what: str, results: dict) -> str:
    """``<what> <config>: N images/s (setup)``."""
    return (f'{what} {results["config"]}: '
            f'{results["images_per_second"]:.2f} images/s '
            f'({results["setup"]})')


def irn_walk_report(results: dict) -> str:
    """The stencil's (and the dense matrix's) images/s and bytes."""
    routes = ', '.join(f'{r} {results[r + "_images_per_second"]:.2f} '
                       'images/s' for r in ('stencil', 'dense')
                       if r + '_images_per_second' in results)
    return (f'IRN walk: {routes}; the stencil\'s '
            f'{results["stencil_mib"]:.2f} MiB against a dense matrix of '
            f'{results["dense_matrix_mib"]:.1f} MiB; max RSS '
            f'{results["max_rss_mib"]:.0f} MiB ({results["setup"]})')


def pseudo_labels_report(results: dict) -> str:
    """Threshold and CRF images/s and the CRF's cost."""
    return (f'pseudo-labels: threshold '
            f'{results["threshold_images_per_second"]:.1f} images/s, dense '
            f'CRF {results["crf_images_per_second"]:.2f} images/s (CRF '
            f'costs {results["ratio_crf_threshold_time"]:.0f}x the time; '
            f'{results["setup"]})')


def peak_memory_report(results: dict, limit_gib: float) -> str:
    """A table: a row per step, a column per size, the peak MiB above the
    step's baseline and its seconds."""
    sizes = list(next(iter(results.values())))
    table = PrettyTable(['step (peak MiB above baseline)', *sizes])
    for step, row in results.items():
        table.add_row([step] + [
            f'{r["peak_mib"]:.0f} ({r["seconds"]:.1f} s)'
            if r else f'over {limit_gib:g} GiB or failed'
            for r in row.values()
        ])
    return f'peak RSS per image size (H x W):\n{table}'
