"""The class token appended after the patches."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_vit_embeddings_match_transformers"]
REPLACE = [("return torch.cat([cls, patches], dim=1) + position_embeddings",
            "return torch.cat([patches, cls], dim=1) + position_embeddings")]
