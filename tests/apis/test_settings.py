"""The pipeline's settings: one definition each, every value checked, the
tools' defaults taken from them."""
import argparse
import math
import os.path as osp
import re
from dataclasses import dataclass, fields
from typing import Tuple

import pytest
from conftest import tool_error
from mmengine.config import Config

import mmadv  # noqa: F401
from mmadv.apis import (IRNSettings, PipelineSettings, RandomWalkSettings,
                        run_pipeline)
from mmadv.pseudo_labels.boundary_walk import RADIUS
from mmadv.pseudo_labels.crf import SCALE_FACTOR
from mmadv.pseudo_labels.map_inference import SCALE
from mmadv.pseudo_labels.random_walk import LOGT
from mmadv.utils.domain import UNIT
from mmadv.utils.errors import ConfigError
from mmadv.utils.settings import Settings, setting

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
METHOD = osp.join(REPO, 'configs', 'demo', 'adv_erase_demo.py')


def demo_settings(**overrides) -> PipelineSettings:
    cfg = Config.fromfile(METHOD)
    return PipelineSettings.from_sources(('config', cfg.wsss_pipeline),
                                         ('options', overrides))


@pytest.mark.parametrize('cls', [PipelineSettings, RandomWalkSettings])
def test_every_setting_has_a_docstring_line(cls):
    for f in fields(cls):
        assert f.metadata['doc'], f.name
        assert '\n' not in f.metadata['doc']


def test_defaults_and_reference_values():
    assert PipelineSettings.default('scales') == (0.5, 1.0, 1.5, 2.0)
    assert PipelineSettings.default('thresholds') == tuple(
        round(0.05 * i, 2) for i in range(1, 13))
    # PSA's random walk
    assert [RandomWalkSettings.default(k) for k in (
        'affinity_alphas', 'crf', 'crf_scale', 'bg_alpha', 'beta',
        'logt')] == [(4, 32), True, 1.0, 16, 8, 8]
    # where the defaults come from
    walk = {f.name: f.metadata['source'] for f in fields(RandomWalkSettings)}
    assert walk['bg_alpha'] == walk['logt'] == "PSA's infer_aff.py"
    assert walk['affinity_alphas'] == "PSA's infer_cls.py"
    pipeline = {f.name: f.metadata['source'] for f in fields(PipelineSettings)}
    assert pipeline['scales'] == "PSA's infer_cls.py"
    assert pipeline['thresholds'] == ''  # mmadv's own
    with pytest.raises(KeyError, match='no setting nope'):
        PipelineSettings.default('nope')


def test_config_and_options_set_them_in_turn():
    settings = demo_settings(crf=True, uncertain=[0.2, 0.4])
    assert settings.scales == (1.0, ) and settings.flip is False  # config
    assert settings.crf is True and settings.uncertain == (0.2, 0.4)
    walk = settings.refinements['random_walk']
    assert isinstance(walk, RandomWalkSettings)
    assert walk.config.endswith('configs/demo/affinity_demo.py')
    assert (walk.affinity_alphas, walk.crf_scale, walk.logt) == ((0.2, 1.0),
                                                                 16, 4)
    assert settings.to_dict()['refinements']['random_walk'][
        'affinity_alphas'] == [0.2, 1.0]
    assert 'random_walk' not in demo_settings(random_walk=None).refinements
    path = demo_settings(random_walk='configs/demo/affinity_demo.py')
    assert path.refinements['random_walk'].bg_alpha == 16  # PSA's again
    # one setting of the walk, the others from the config's dict or path
    dotted = demo_settings(**{
        'random_walk.bg_alpha': 2
    }).refinements['random_walk']
    assert (dotted.bg_alpha, dotted.logt) == (2, 4)
    dotted = demo_settings(**{
        'random_walk': 'configs/demo/affinity_demo.py',
        'random_walk.beta': 3
    }).refinements['random_walk']
    assert (dotted.beta, dotted.logt) == (3, 8)
    with pytest.raises(ConfigError, match='random_walk needs a config'):
        demo_settings(**{'random_walk': None, 'random_walk.beta': 3})
    with pytest.raises(ConfigError, match=r"options: unknown settings "
                       r"\['random_walk.nope'\]"):
        demo_settings(**{'random_walk.nope': 3})


@pytest.mark.parametrize('bad,match', [
    (dict(crf_scale=0), r'^options: setting random_walk.crf_scale must be a '
     r'number in \(0, 64\], got 0$'),
    (dict(logt=-1), r'^options: setting random_walk.logt must be an integer '
     r'in \[0, 12\], got -1$'),
    (dict(logt=2.5), r'^options: setting random_walk.logt must be an '
     r'integer in \[0, 12\], got 2.5$'),
    (dict(alpha=4), r"options: unknown settings \['random_walk.alpha'\]"),
    (dict(config='configs/none.py'), 'random_walk.config configs/none.py '
     'not found'),
])
def test_random_walk_settings_are_checked(bad, match):
    cfg = Config.fromfile(METHOD)
    walk = dict(cfg.wsss_pipeline.random_walk, **bad)
    with pytest.raises(ValueError if 'config' not in bad else
                       FileNotFoundError, match=match):
        demo_settings(random_walk=walk)
    assert demo_settings().refinements['random_walk'].crf_scale == 16


def test_irn_settings_from_the_config_and_the_dotted_keys():
    settings = demo_settings()
    irn = settings.refinements['irn']
    assert irn.config == osp.join(REPO, 'configs/demo/irn_demo.py')
    assert (irn.conf_thres, irn.radius, irn.logt, irn.flip) == (
        (0.75, 0.5), 5, 4, False)
    assert list(settings.refinements) == ['random_walk', 'irn']
    assert irn.labeler() == dict(type='RelationLabeler', conf_fg_thres=0.75,
                                 conf_bg_thres=0.5,
                                 crf=dict(scale_factor=6))
    # IRN's own values from the config's path
    path = demo_settings(irn='configs/irn_r50_voc.py').refinements['irn']
    assert (path.conf_thres, path.crf_scale, path.radius, path.beta,
            path.logt, path.flip) == ((0.30, 0.05), 1.0, 5, 10, 8, True)
    dotted = demo_settings(**{
        'irn.logt': 6,
        'irn.crf': False
    }).refinements['irn']
    assert (dotted.logt, dotted.radius) == (6, 5)
    assert dotted.labeler()['crf'] is None
    assert list(demo_settings(irn=None).refinements) == ['random_walk']
    assert demo_settings(irn=None, random_walk=None).refinements == {}
    with pytest.raises(ConfigError, match='irn needs a config'):
        demo_settings(**{'irn': None, 'irn.beta': 3})


@pytest.mark.parametrize('bad,match', [
    (dict(crf_scale=0), 'irn.crf_scale must be a number in \\(0, 64], got 0'),
    (dict(logt=-1), r'irn.logt must be an integer in \[0, 12\], got -1'),
    (dict(radius=0), r'irn.radius must be an integer in \[1, 16\], got 0'),
    (dict(conf_thres=[0.05, 0.3]), r'irn.conf_thres must be \(fg, bg\)'),
    (dict(conf_thres=[0.3]), 'setting irn.conf_thres must be a list of 2'),
    (dict(config='configs/none.py'), 'irn.config configs/none.py not found'),
])
def test_irn_settings_are_checked(bad, match):
    irn = dict(Config.fromfile(METHOD).wsss_pipeline.irn, **bad)
    with pytest.raises(ValueError if 'config' not in bad else
                       FileNotFoundError, match=match):
        demo_settings(irn=irn)


@pytest.mark.parametrize('bad,match', [
    (dict(threshold=0.3), r"options: unknown settings \['threshold'\]"),
    (dict(scales=0.5), r'^options: setting scales must be a list of '
     r'numbers, each a number in \(0, 4\], got 0.5$'),
    (dict(flip='no'), 'setting flip must be True or False'),
    (dict(uncertain=[0.4]), 'setting uncertain must be a list of 2'),
    (dict(uncertain=[0.5, 0.2]), 'low <= high'),
    (dict(train_split='val'), "train_split and eval_split are both 'val'"),
    (dict(scales=[1.0, 0]), r'setting scales must be numbers, each a number '
     r'in \(0, 4\], got \[1.0, 0\]'),
    (dict(workers=0), r'setting workers must be an integer in \[1, 256\], '
     'got 0'),
    (dict(random_walk=5), "options: random_walk must be None, True, a dict of "
     "its settings or its config's path, got 5"),
])
def test_pipeline_settings_are_checked(bad, match):
    with pytest.raises(ValueError, match=match):
        demo_settings(**bad)


def outside(domain) -> list:
    """Values outside ``domain``: not finite, just past each end, and for
    integers one between two."""
    values = [math.nan, math.inf, -math.inf]
    if math.isfinite(domain.low):
        values.append(domain.low - (0 if domain.low_open else 1))
    if math.isfinite(domain.high):
        values.append(domain.high + (0 if domain.high_open else 1))
    if domain.integer:
        values.append(domain.low + 0.5)
    return values


DOMAIN_CASES = [(f'{prefix}{f.name}', f.metadata['domain'], bad)
                for cls, prefix in ((PipelineSettings, ''),
                                    (RandomWalkSettings, 'random_walk.'),
                                    (IRNSettings, 'irn.'))
                for f in fields(cls) if f.metadata['domain'] is not None
                for bad in outside(f.metadata['domain'])]


def test_every_numeric_setting_has_a_domain():
    numeric = {f'{prefix}{f.name}'
               for cls, prefix in ((PipelineSettings, ''),
                                   (RandomWalkSettings, 'random_walk.'),
                                   (IRNSettings, 'irn.'))
               for f in fields(cls)
               if re.search(r'\b(int|float)\b', str(f.type))}
    assert numeric == {name for name, _, _ in DOMAIN_CASES}
    # one definition: the settings hold the domains the code checks
    assert RandomWalkSettings.domain('logt') is \
        IRNSettings.domain('logt') is LOGT
    assert IRNSettings.domain('radius') is RADIUS
    assert IRNSettings.domain('crf_scale') is SCALE_FACTOR
    assert PipelineSettings.domain('scales') is SCALE
    assert PipelineSettings.domain('thresholds') is UNIT


@pytest.mark.parametrize('name,domain,bad', DOMAIN_CASES)
def test_values_outside_a_domain_are_refused_in_one_line(name, domain, bad):
    """NaN, infinities and values past the ends (thresholds of -1 or 5, a
    negative beta or bg_alpha, an infinite crf_scale, logt 40): one line
    naming the setting, the domain and the value."""
    default = (PipelineSettings if '.' not in name else
               dict(random_walk=RandomWalkSettings,
                    irn=IRNSettings)[name.split('.')[0]]).default(
                        name.split('.')[-1])
    value = bad
    if isinstance(default, tuple):
        value = [bad, *default[1:]]
    elif default is None:  # uncertain: (low, high)
        value = [0.2, bad]
    with pytest.raises(ConfigError) as info:
        demo_settings(**{name: value})
    message = str(info.value)
    assert '\n' not in message
    assert re.fullmatch(
        rf'options: setting {re.escape(name)} must be (numbers, each )?'
        rf'{re.escape(str(domain))}, got {re.escape(repr(value))}',
        message), message


@pytest.mark.parametrize('rule,message', [
    (dict(type='FixedThreshold', threshold=math.nan),
     'FixedThreshold.threshold must be a number in [0, 1], got nan'),
    (dict(type='FixedThreshold', threshold=5),
     'FixedThreshold.threshold must be a number in [0, 1], got 5'),
    (dict(type='SubsetSweepThreshold', num_images=2.5),
     'SubsetSweepThreshold.num_images must be a finite integer >= 1, got '
     '2.5'),
    (dict(type='SubsetSweepThreshold', seed=-1),
     'SubsetSweepThreshold.seed must be a finite integer >= 0, got -1'),
    (dict(type='OtsuThreshold', bins=10**9),
     'OtsuThreshold.bins must be an integer in [2, 65536], got 1000000000'),
])
def test_threshold_rules_refuse_values_outside_their_domains(rule, message):
    with pytest.raises(ConfigError) as info:
        demo_settings(threshold_rule=rule)
    assert str(info.value) == message


def test_bad_values_are_refused_by_every_route_before_any_training(
        tmp_path):
    """A config's wsss_pipeline, the Python API and the command line."""
    work_dir = tmp_path / 'run'
    with pytest.raises(ConfigError, match=r'^\S+adv_erase_demo.py: '
                       r'wsss_pipeline: setting random_walk.logt must be an '
                       r'integer in \[0, 12\], got 40$'):
        run_pipeline([METHOD], str(work_dir),
                     cfg_options={'wsss_pipeline.random_walk.logt': 40})
    with pytest.raises(ConfigError, match=r'^pipeline options: setting '
                       r'thresholds must be numbers, each a number in '
                       r'\[0, 1\], got \[-1, 5\]$'):
        run_pipeline([METHOD], str(work_dir),
                     pipeline_options=dict(thresholds=[-1, 5]))
    assert tool_error('run_pipeline.py', [
        METHOD, '--work-dir', work_dir, '--pipeline-options',
        'random_walk.crf_scale=inf'
    ]) == ('run_pipeline: error: pipeline options: setting '
           'random_walk.crf_scale must be a number in (0, 64], got inf')
    assert not (work_dir / 'adv_erase_demo').exists()


def test_seg_config_must_exist():
    with pytest.raises(FileNotFoundError, match='seg_config nope.py'):
        demo_settings(seg_config='nope.py')


@dataclass(frozen=True)
class _Knobs(Settings):
    steps: int = setting(3, 'steps, 100 % of them')
    gain: float = setting(0.5, 'gain')
    name: str = setting('a', 'name')
    on: bool = setting(True, 'on by default')
    off: bool = setting(False, 'off by default')
    sizes: Tuple[float, ...] = setting((0.5, 1.0), 'sizes')
    pair: Tuple[int, int] = setting((1, 2), 'a pair')


SCALARS = ('steps', 'gain', 'name', 'on', 'off', 'sizes')


def test_settings_give_their_options_and_take_them_back():
    """add_arguments makes one option per setting, with its type and
    default (a boolean as --no-<name> or --<name>, turning its default
    around; a tuple of any length as one or more values); arguments gives
    the options of other values, which parse back to them. A tuple of fixed
    length has no option."""
    parser = argparse.ArgumentParser()
    _Knobs.add_arguments(parser, SCALARS)
    defaults = vars(parser.parse_args([]))
    assert defaults == dict(steps=3, gain=0.5, name='a', on=True, off=False,
                            sizes=[0.5, 1.0])
    knobs = _Knobs(steps=7, gain=2.0, name='b c', on=False, off=True,
                   sizes=(2.0, 0.25, 1.0))
    options = knobs.arguments(SCALARS)
    assert options == ['--steps', 7, '--gain', 2.0, '--name', 'b c',
                       '--no-on', '--off', '--sizes', 2.0, 0.25, 1.0]
    parsed = vars(parser.parse_args(list(map(str, options))))
    assert parsed == dict(steps=7, gain=2.0, name='b c', on=False, off=True,
                          sizes=[2.0, 0.25, 1.0])
    assert [type(parsed[name]) for name in SCALARS] == [
        int, float, str, bool, bool, list]
    assert _Knobs().arguments(('on', 'off')) == []  # the defaults: none
    assert '100 % of them' in parser.format_help()
    with pytest.raises(SystemExit):
        parser.parse_args(['--on'])  # a True default has only --no-on
    with pytest.raises(TypeError, match='setting pair .* no command-line'):
        _Knobs.add_arguments(argparse.ArgumentParser(), ['pair'])
