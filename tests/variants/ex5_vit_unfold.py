"""Correct, differently: patches cut with unfold and projected with a matmul."""
TARGET = "ex5_papers.py"
PASSES = ["checks/test_ex5.py::test_vit_embeddings_match_transformers"]


def vit_embeddings(pixel_values, patch_weight, patch_bias, cls_token, position_embeddings):
    size = patch_weight.shape[-1]
    patches = F.unfold(pixel_values, kernel_size=size, stride=size)  # (batch, C*P*P, N), row-major patches
    tokens = torch.einsum("bkn,hk->bnh", patches, patch_weight.flatten(1)) + patch_bias
    cls = cls_token + position_embeddings[:, :1]
    return torch.cat([cls.expand(len(tokens), -1, -1), tokens + position_embeddings[:, 1:]], dim=1)
