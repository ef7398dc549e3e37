"""Map inference (:func:`infer_map_folder`) whose worker dies on an image:
one line naming it, at once, the workers stopped, the maps written kept."""
import faulthandler
import os
import re
import signal
import time

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope
from test_label_folder import deadline

import mmadv  # noqa: F401
from mmadv.datasets import load_maps
from mmadv.datasets.voc_image_labels import VOCImageLabelDataset
from mmadv.pseudo_labels.map_inference import (IMAGE_PIPELINE, MapFunction,
                                               image_name, infer_map_folder)
from mmadv.utils import InputError

VICTIM = '2007_000002'


class SigmoidMaps(MapFunction):
    """Two maps, ``sigmoid`` of a 1x1 convolution of the image in [0, 1];
    kills its process on image ``VICTIM`` unless ``signum`` is None; with
    ``device`` a device it claims to compute on (on a GPU the workers only
    read the images)."""

    def __init__(self, signum=None, device='cpu'):
        torch.manual_seed(0)
        super().__init__(nn.Conv2d(3, 2, 1))
        self.signum = signum
        self.claimed = torch.device(device)

    @property
    def device(self):
        return self.claimed

    @torch.no_grad()
    def __call__(self, item, name):
        if name == VICTIM and self.signum is not None:
            faulthandler.disable()  # pytest's dump would clutter the output
            os.kill(os.getpid(), self.signum)
        maps = torch.sigmoid(self.model(item['inputs'][None] / 255.))
        return np.arange(2), maps[0].numpy()


def kill_on_victim(pipeline):
    """``pipeline`` that kills its process when it reads ``VICTIM``."""

    def read(info):
        if image_name(info['img_path']) == VICTIM:
            os.kill(os.getpid(), signal.SIGKILL)
        return pipeline(info)

    return read


@pytest.mark.parametrize('where', ['computing', 'reading'])
def test_a_dead_worker_ends_the_run_in_one_line(tiny_voc, tmp_path, where,
                                                new_children):
    init_default_scope('mmseg')
    dataset = VOCImageLabelDataset(
        data_root=str(tiny_voc), pipeline=IMAGE_PIPELINE)
    expected = {  # as the map files hold them
        image_name(item['data_samples'].img_path):
        SigmoidMaps()(item, '')[1].astype(np.float16).astype(np.float32)
        for item in dataset
    }
    assert VICTIM in expected
    pipeline = dataset.pipeline
    if where == 'computing':  # on the CPU, in the workers
        compute_maps = SigmoidMaps(signal.SIGSEGV)
        reason = 'signal SIGSEGV \\(Segmentation fault\\) while computing ' \
            'the maps of'
    else:  # the workers read the images, this process computes the maps
        compute_maps = SigmoidMaps(device='cuda')
        dataset.pipeline = kill_on_victim(pipeline)
        reason = 'signal SIGKILL \\(the out-of-memory killer\\?\\) while ' \
            'reading image'
    start = time.monotonic()
    with deadline(30), pytest.raises(InputError) as error:
        infer_map_folder(compute_maps, dataset, str(tmp_path), 2)
    assert time.monotonic() - start < 5
    assert re.fullmatch(
        rf'worker \(pid \d+\) was killed by {reason} {VICTIM}; the pool is '
        r'shut down \(the maps written so far are kept: run again to '
        r'resume\)', str(error.value))
    assert not new_children()
    # whole map files; a worker killed while it wrote leaves a temporary
    # '.<name>.tmp<pid>.npz', which the run again removes (checked below)
    kept = [name for name in os.listdir(tmp_path)
            if not name.startswith('.')]
    assert f'{VICTIM}.npz' not in kept
    # the run again, without the fault, makes the others
    dataset.pipeline = pipeline
    compute_maps.signum = None
    stats = infer_map_folder(compute_maps, dataset, str(tmp_path), 2)
    assert stats == dict(total=len(expected), skipped=len(kept),
                         written=len(expected) - len(kept))
    assert sorted(os.listdir(tmp_path)) == sorted(
        f'{name}.npz' for name in expected)
    for name, fused in expected.items():
        classes, maps = load_maps(f'{tmp_path}/{name}.npz')
        assert classes.tolist() == [0, 1]
        np.testing.assert_array_equal(maps, fused)


class FailingMaps(SigmoidMaps):
    """Raises an mmadv error on image ``VICTIM``."""

    def __call__(self, item, name):
        if name == VICTIM:
            raise InputError(f'no maps of {name}')
        return super().__call__(item, name)


@pytest.mark.parametrize('device', ['cpu', 'cuda'])
def test_an_error_stops_the_workers(tiny_voc, tmp_path, device,
                                    new_children):
    # cpu: raised in a worker; cuda: in this process, which reads in them
    init_default_scope('mmseg')
    dataset = VOCImageLabelDataset(
        data_root=str(tiny_voc), pipeline=IMAGE_PIPELINE)
    with deadline(30), pytest.raises(InputError) as error:
        infer_map_folder(FailingMaps(device=device), dataset, str(tmp_path),
                         2)
    assert str(error.value) == f'no maps of {VICTIM}'
    assert not new_children()
