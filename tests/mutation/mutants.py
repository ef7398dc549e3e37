"""The mutants of the method's core that the test suite must kill: each a
one-line change of the code (file, the exact text, its replacement) and
the tests that must then fail. ``tests/mutation/run.py`` applies each in
turn and runs its tests."""
from typing import List, NamedTuple


class Mutant(NamedTuple):
    name: str
    path: str
    old: str
    new: str
    tests: List[str]


MODELS = 'tests/models/'
MUTANTS = [
    # the erasing mask M = sigmoid(omega (A - sigma)), I* = I (1 - M)
    Mutant('erasing keeps the object', 'mmadv/models/heads/eraser_head.py',
           'erased = images[pair_images].float() * (1 - masks)',
           'erased = images[pair_images].float() * masks',
           [MODELS + 'test_eraser_head.py']),
    Mutant('mask threshold sign', 'mmadv/models/heads/eraser_head.py',
           '(maps - self.sigma)', '(maps + self.sigma)',
           [MODELS + 'test_eraser_head.py']),
    # L_am: the adversary's mean sigmoid score of the erased class
    Mutant('L_am sums', 'mmadv/models/losses/attention_mining_loss.py',
           '(torch.sigmoid(scores) if use_sigmoid else scores).mean()',
           '(torch.sigmoid(scores) if use_sigmoid else scores).sum()',
           [MODELS + 'test_losses.py']),
    Mutant('L_am of the best class',
           'mmadv/models/losses/attention_mining_loss.py',
           'scores = adversary_logits.gather(1, pair_classes.unsqueeze(1))',
           'scores = adversary_logits.max(1, keepdim=True).values',
           [MODELS + 'test_losses.py']),
    # L_reg = beta mean(A), minimised
    Mutant('L_reg sign', 'mmadv/models/losses/'
           'attention_regularization_loss.py',
           'return self.loss_weight * maps.mean()',
           'return -self.loss_weight * maps.mean()',
           [MODELS + 'test_losses.py',
            MODELS + 'test_adversarial_erasing_classifier.py']),
    # the adversary learns the erased images' labels
    Mutant('adversary target', 'mmadv/models/classifiers/'
           'adversarial_erasing_classifier.py',
           'self.adversary_loss(logits, labels[erasing.pair_images])',
           'self.adversary_loss(logits, 1 - labels[erasing.pair_images])',
           [MODELS + 'test_adversarial_erasing_classifier.py']),
    # alternation: localizer_iters localizer steps, then the adversary's
    Mutant('alternation', 'mmadv/models/classifiers/'
           'adversarial_erasing_classifier.py',
           'if steps % cycle < self.localizer_iters:',
           'if steps % cycle <= self.localizer_iters:',
           [MODELS + 'test_adversarial_erasing_classifier.py']),
    # the CAM: the classifier's weights on the features, no bias
    Mutant('CAM with the bias', 'mmadv/models/heads/cam_head.py',
           'cams = F.conv2d(feature, self.classifier.weight)\n',
           'cams = F.conv2d(feature, self.classifier.weight, '
           'self.classifier.bias)\n',
           [MODELS + 'test_eraser_head.py']),
    # the walk: T = A^beta column-normalised, 2^logt steps
    Mutant('walk without the power', 'mmadv/pseudo_labels/random_walk.py',
           'weight = weight.reshape(bottom - top, right - left).pow(beta)',
           'weight = weight.reshape(bottom - top, right - left)',
           ['tests/pseudo_labels/test_random_walk.py']),
    Mutant('walk one step short', 'mmadv/pseudo_labels/random_walk.py',
           'for i in range(2**logt):', 'for i in range(2**logt - 1):',
           ['tests/pseudo_labels/test_random_walk.py']),
    Mutant('walk unnormalised', 'mmadv/pseudo_labels/random_walk.py',
           'new.mul_(inverse)', 'new.mul_(inverse ** 0.5)',
           ['tests/pseudo_labels/test_random_walk.py']),
    # IRN's relation labels: confident foreground by the higher score
    Mutant('relation labels swapped', 'mmadv/pseudo_labels/'
           'relation_labels.py',
           'fg = keys[self._argmax(maps, self.conf_fg_thres, image)]',
           'fg = keys[self._argmax(maps, self.conf_bg_thres, image)]',
           ['tests/pseudo_labels/test_relation_labels.py']),
    # both CRFs: PSA's kernels and IRN's
    Mutant('PSA CRF with IRN kernels', 'mmadv/pseudo_labels/crf.py',
           'crf = _pairwise_crf(image, n, self.scale_factor, sxy=80, '
           'srgb=13)',
           'crf = _pairwise_crf(image, n, self.scale_factor, sxy=50, '
           'srgb=5)', ['tests/pseudo_labels/test_crf.py']),
    Mutant('IRN label CRF gt_prob', 'mmadv/pseudo_labels/crf.py',
           'gt_prob: float = 0.7', 'gt_prob: float = 0.6',
           ['tests/pseudo_labels/test_crf.py',
            'tests/pseudo_labels/test_relation_labels.py']),
    Mutant('CRF smoothness compat', 'mmadv/pseudo_labels/crf.py',
           'crf.addPairwiseGaussian(sxy=3 / scale_factor, compat=3)',
           'crf.addPairwiseGaussian(sxy=3 / scale_factor, compat=5)',
           ['tests/pseudo_labels/test_crf.py']),
    # IRN's geometry
    Mutant('IRNet levels resized', 'mmadv/models/affinity/irnet.py',
           'if level_stride > stride:  # IRN\'s fc_edge3..5',
           'if False:  # IRN\'s fc_edge3..5', [MODELS + 'test_irnet.py']),
    Mutant('B without the padding', 'mmadv/pseudo_labels/boundary_walk.py',
           'padded_size(height, width, max(model.strides), pad_size)',
           'padded_size(height, width, max(model.strides), 0)',
           [MODELS + 'test_irnet.py']),
    Mutant('walk resized to the image', 'mmadv/pseudo_labels/'
           'boundary_walk.py',
           'walked = walked[:, :maps.shape[-2], :maps.shape[-1]]',
           'walked = F.interpolate(walked[None], size=maps.shape[-2:], '
           "mode='bilinear')[0]",
           ['tests/pseudo_labels/test_boundary_walk.py']),
    # the threshold rules and the map metrics
    Mutant('Otsu edge off by one', 'mmadv/evaluation/threshold_rules.py',
           'return float((np.argmax(variance) + 1) / bins)',
           'return float(np.argmax(variance) / bins)',
           ['tests/evaluation/test_threshold_rules.py']),
    Mutant('sweep takes the worst', 'mmadv/evaluation/map_metrics.py',
           "best = int(np.nanargmax(scores['mIoU']))",
           "best = int(np.nanargmin(scores['mIoU']))",
           ['tests/evaluation/test_map_metrics.py',
            'tests/evaluation/test_threshold_rules.py']),
    Mutant('IoU over the union of all', 'mmadv/evaluation/map_metrics.py',
           'IoU=_ratio(tp, num_pred + num_gt - tp),',
           'IoU=_ratio(tp, num_pred + num_gt),',
           ['tests/evaluation/test_map_metrics.py']),
    Mutant('mIoU over every class', 'mmadv/evaluation/map_metrics.py',
           "scores['m' + key] = _nanmean(scores[key])",
           "scores['m' + key] = np.nan_to_num(scores[key]).mean(-1)",
           ['tests/evaluation/test_map_metrics.py']),
    # the segmentation stage: TTA, DeepLab's CRF, self-training labels
    Mutant('TTA takes the max', 'mmadv/models/segmentors/prob_tta_model.py',
           ']).mean(dim=0)', ']).max(dim=0).values',
           [MODELS + 'test_segmentors.py']),
    Mutant('CRF kernels swapped',
           'mmadv/models/segmentors/dense_crf_segmentor.py',
           'crf.addPairwiseGaussian(sxy=self.pos_xy_std, compat=self.pos_w)',
           'crf.addPairwiseGaussian(sxy=self.pos_xy_std, compat=self.bi_w)',
           [MODELS + 'test_segmentors.py']),
    Mutant('self-training band closed', 'mmadv/pseudo_labels/labeling.py',
           'label[(top >= low) & (top < high)] = IGNORE_INDEX',
           'label[(top > low) & (top <= high)] = IGNORE_INDEX',
           ['tests/pseudo_labels/test_prediction_labels.py']),
    Mutant('prediction keeps the first labels',
           'mmadv/datasets/prediction_io.py',
           'labels = np.unique(probs.argmax(axis=0))',
           'labels = np.arange(min(3, len(probs)))',
           ['tests/pseudo_labels/test_prediction_labels.py']),
]
