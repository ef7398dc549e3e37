"""TimmFeatureBackbone's local weights: torchvision's ResNet files (the
ones EADER's load_models.py downloads) fit timm's ResNets exactly; a file
that does not fit, or is missing, is named."""
import pytest
import torch
import torchvision
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmadv  # noqa: F401
from mmadv.utils.errors import ConfigError, InputError, MissingInputError


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


@pytest.mark.parametrize('name', ['resnet18', 'resnet101'])
def test_torchvision_weights_give_torchvisions_features(name, tmp_path):
    torch.manual_seed(0)
    reference = getattr(torchvision.models, name)().eval()
    checkpoint = str(tmp_path / f'{name}.pth')
    torch.save(reference.state_dict(), checkpoint)  # with its fc
    backbone = MODELS.build(dict(type='TimmFeatureBackbone', model_name=name,
                                 checkpoint=checkpoint)).eval()
    backbone.init_weights()  # as the Runner does: the weights stay
    image = torch.randn(1, 3, 64, 64)
    body = torch.nn.Sequential(*list(reference.children())[:-2])
    with torch.no_grad():
        features = backbone(image)[-1]
        torch.testing.assert_close(features, body(image), rtol=0, atol=0)
    assert backbone.strides == (32, )


def test_weights_that_do_not_fit_are_refused(tmp_path):
    state = torchvision.models.resnet18().state_dict()
    state.pop('layer1.0.conv1.weight')
    state['extra.weight'] = torch.zeros(1)
    checkpoint = str(tmp_path / 'other.pth')
    torch.save(state, checkpoint)
    with pytest.raises(InputError) as error:
        MODELS.build(dict(type='TimmFeatureBackbone', model_name='resnet18',
                          checkpoint=checkpoint))
    message = str(error.value)
    assert message.startswith(f'{checkpoint} does not fit timm resnet18: ')
    assert 'layer1.0.conv1.weight' in message and 'extra.weight' in message
    assert '\n' not in message
    # the weights of another network
    torch.save(torchvision.models.resnet34().state_dict(), checkpoint)
    with pytest.raises(InputError, match='does not fit timm resnet18'):
        MODELS.build(dict(type='TimmFeatureBackbone', model_name='resnet18',
                          checkpoint=checkpoint))
    (tmp_path / 'text.pth').write_text('not weights')
    with pytest.raises(InputError, match='text.pth: not a torch state dict'):
        MODELS.build(dict(type='TimmFeatureBackbone', model_name='resnet18',
                          checkpoint=str(tmp_path / 'text.pth')))


def test_a_missing_file_is_named(tmp_path):
    missing = str(tmp_path / 'resnet18-5c106cde.pth')
    with pytest.raises(MissingInputError, match=f'not found: {missing}$'):
        MODELS.build(dict(type='TimmFeatureBackbone', model_name='resnet18',
                          checkpoint=missing))


def test_timms_own_download_is_refused(monkeypatch):
    """``pretrained=True`` would have timm try the network: refused before
    timm is called, whoever builds the backbone (a training, a test, a
    map tool)."""
    import timm
    monkeypatch.setattr(timm, 'create_model', lambda *a, **k: pytest.fail(
        'timm.create_model was called'))
    with pytest.raises(ConfigError) as info:
        MODELS.build(dict(type='TimmFeatureBackbone', model_name='resnet18',
                          pretrained=True))
    assert str(info.value) == (
        'timm resnet18: pretrained=True would download weights (mmadv never '
        'does); give checkpoint=<a local file>')
