"""Returns the right maps but plots something else (the mean over heads)."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_plot_attention_map"]
REPLACE = [("left.imshow(cls_map.numpy(), cmap=\"viridis\")",
            "left.imshow(attentions[layer][0].mean(0)[0, 1:].reshape(grid, grid).numpy(), cmap=\"viridis\")")]
