from .affinity_loss import AffinityLoss, affinity_loss_terms
from .attention_mining_loss import AttentionMiningLoss, attention_mining_loss
from .attention_regularization_loss import AttentionRegularizationLoss

__all__ = [
    'AffinityLoss', 'affinity_loss_terms', 'AttentionMiningLoss',
    'attention_mining_loss', 'AttentionRegularizationLoss'
]
