"""PSA's code (github jiwoon-ahn/psa), transcribed as the tests' reference
for mmadv's pairs, affinity labels and random walk."""
import numpy as np


def psa_search_dist(radius):
    """The offsets of PSA's get_indices_of_pairs and
    ExtractAffinityLabelInRadius."""
    search_dist = [(0, x) for x in range(1, radius)]
    for y in range(1, radius):
        for x in range(-radius + 1, radius):
            if x * x + y * y < radius * radius:
                search_dist.append((y, x))
    return search_dist


def psa_get_indices_of_pairs(radius, size):
    """PSA's tool/pyutils.py get_indices_of_pairs, transcribed."""
    search_dist = psa_search_dist(radius)
    radius_floor = radius - 1
    full_indices = np.reshape(
        np.arange(0, size[0] * size[1], dtype=np.int64), (size[0], size[1]))
    cropped_height = size[0] - radius_floor
    cropped_width = size[1] - 2 * radius_floor
    indices_from = np.reshape(
        full_indices[:-radius_floor, radius_floor:-radius_floor], [-1])
    indices_to_list = []
    for dy, dx in search_dist:
        indices_to = full_indices[dy:dy + cropped_height,
                                  radius_floor + dx:radius_floor + dx +
                                  cropped_width]
        indices_to_list.append(np.reshape(indices_to, [-1]))
    return indices_from, np.concatenate(indices_to_list, axis=0)


def psa_extract_affinity_labels(label, radius):
    """PSA's voc12/data.py ExtractAffinityLabelInRadius.__call__ (for a
    label of any height and width), transcribed."""
    search_dist = psa_search_dist(radius)
    radius_floor = radius - 1
    crop_height = label.shape[0] - radius_floor
    crop_width = label.shape[1] - 2 * radius_floor
    labels_from = np.reshape(
        label[:-radius_floor, radius_floor:-radius_floor], [-1])
    labels_to_list, valid_pair_list = [], []
    for dy, dx in search_dist:
        labels_to = np.reshape(
            label[dy:dy + crop_height,
                  radius_floor + dx:radius_floor + dx + crop_width], [-1])
        labels_to_list.append(labels_to)
        valid_pair_list.append(
            np.logical_and(labels_to < 255, labels_from < 255))
    bc_labels_from = np.expand_dims(labels_from, 0)
    concat_labels_to = np.stack(labels_to_list)
    concat_valid_pair = np.stack(valid_pair_list)
    pos = np.equal(bc_labels_from, concat_labels_to)
    bg_pos = np.logical_and(pos, np.equal(bc_labels_from, 0))
    fg_pos = np.logical_and(np.logical_and(pos, bc_labels_from != 0),
                            concat_valid_pair)
    neg = np.logical_and(np.logical_not(pos), concat_valid_pair)
    return bg_pos, fg_pos, neg


def psa_crf_inference(img, probs, t=10, scale_factor=1, labels=21):
    """tool/imutils.py crf_inference."""
    import pydensecrf.densecrf as dcrf
    from pydensecrf.utils import unary_from_softmax

    h, w = img.shape[:2]
    n_labels = labels
    d = dcrf.DenseCRF2D(w, h, n_labels)
    unary = unary_from_softmax(probs)
    unary = np.ascontiguousarray(unary)
    d.setUnaryEnergy(unary)
    d.addPairwiseGaussian(sxy=3 / scale_factor, compat=3)
    d.addPairwiseBilateral(sxy=80 / scale_factor, srgb=13,
                           rgbim=np.copy(img), compat=10)
    Q = d.inference(t)
    return np.array(Q).reshape((n_labels, h, w))
