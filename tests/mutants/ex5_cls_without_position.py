"""Position embeddings added to the patches only; the class token gets none."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_vit_embeddings_match_transformers"]
REPLACE = [("return torch.cat([cls, patches], dim=1) + position_embeddings",
            "return torch.cat([cls, patches + position_embeddings[:, 1:]], dim=1)")]
