"""Transcriptions of IRN's code (github jiwoon-ahn/irn, misc/indexing.py)
in numpy, for the tests to compare mmadv's IRN with."""
import numpy as np


def irn_affinity(edge: np.ndarray, radius: int):
    """IRN's PathIndex(radius).get_path_indices(edge.shape) and
    edge_to_affinity, in numpy: ``{(src, dst): affinity}``."""
    max_radius = radius
    by_length = [[] for _ in range(max_radius * 4)]
    search_dirs = [(0, x) for x in range(1, max_radius)]
    for y in range(1, max_radius):
        for x in range(-max_radius + 1, max_radius):
            if x * x + y * y < max_radius ** 2:
                search_dirs.append((y, x))
    for d in search_dirs:
        length_sq = d[0] ** 2 + d[1] ** 2
        coords = []
        min_y, max_y = sorted((0, d[0]))
        min_x, max_x = sorted((0, d[1]))
        for y in range(min_y, max_y + 1):
            for x in range(min_x, max_x + 1):
                if (d[0] * x - d[1] * y) ** 2 / length_sq < 1:
                    coords.append([y, x])
        coords.sort(key=lambda c: -abs(c[0]) - abs(c[1]))
        by_length[len(coords)].append(coords)
    paths = [np.asarray(v) for v in by_length if v]
    radius_floor = int(np.ceil(radius) - 1)
    h, w = edge.shape
    full = np.arange(h * w).reshape(h, w)
    ch, cw = h - radius_floor, w - 2 * radius_floor
    src = full[:ch, radius_floor:radius_floor + cw].reshape(-1)
    flat = edge.reshape(-1)
    result = {}
    for group in paths:
        for path in group:
            indices = np.stack([
                full[dy:dy + ch, radius_floor + dx:radius_floor + dx + cw]
                .reshape(-1) for dy, dx in path
            ])
            aff = 1 - flat[indices].max(0)  # max_pool over the path
            for s, d, a in zip(src, indices[0], aff):  # index 0: the end
                result[(int(s), int(d))] = float(a)
    return result


def irn_propagate_to_edge(x, edge, radius, beta, exp_times):
    """misc/indexing.py propagate_to_edge, dense, in float64 (the
    pairs of irn_affinity on the padded map)."""
    height, width = edge.shape
    hor, ver = width + 2 * radius, height + radius
    padded = np.pad(edge, ((0, radius), (radius, radius)),
                    constant_values=1.0)
    pairs = irn_affinity(padded, radius)  # {(src, dst): affinity}
    dense = np.eye(ver * hor)
    for (s, d), a in pairs.items():
        dense[s, d] = dense[d, s] = a
    dense = dense.reshape(ver, hor, ver, hor)[:-radius, radius:-radius,
                                              :-radius, radius:-radius]
    dense = dense.reshape(height * width, height * width)
    trans = dense ** beta
    trans = trans / trans.sum(0, keepdims=True)
    for _ in range(exp_times):
        trans = trans @ trans
    x = x.reshape(-1, height, width) * (1 - edge)
    return (x.reshape(-1, height * width) @ trans).reshape(-1, height, width)


def irn_crf_inference_label(img, labels, t=10, n_labels=21, gt_prob=0.7):
    """misc/imutils.py crf_inference_label."""
    import pydensecrf.densecrf as dcrf
    from pydensecrf.utils import unary_from_labels

    h, w = img.shape[:2]
    d = dcrf.DenseCRF2D(w, h, n_labels)
    unary = unary_from_labels(labels, n_labels, gt_prob=gt_prob,
                              zero_unsure=False)
    d.setUnaryEnergy(unary)
    d.addPairwiseGaussian(sxy=3, compat=3)
    d.addPairwiseBilateral(sxy=50, srgb=5,
                           rgbim=np.ascontiguousarray(np.copy(img)),
                           compat=10)
    q = d.inference(t)
    return np.argmax(np.array(q).reshape((n_labels, h, w)), axis=0)
