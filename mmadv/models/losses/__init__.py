from .attention_mining_loss import AttentionMiningLoss, attention_mining_loss
from .attention_regularization_loss import AttentionRegularizationLoss

__all__ = [
    'AttentionMiningLoss', 'attention_mining_loss',
    'AttentionRegularizationLoss'
]
