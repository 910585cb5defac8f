"""Correct, differently: pcolormesh of the full map divided by its maximum; matshow of the CLS map stretched to 0..1."""
TARGET = "ex4_clip.py"
PASSES = ["checks/test_ex4.py::test_plot_attention_map"]


def plot_attention(attentions, out_path, *, layer=-2, head=0):
    full_map = attentions[layer][0, head].detach().float()
    grid = int(round((full_map.shape[-1] - 1) ** 0.5))
    cls_map = full_map[0, 1:].reshape(grid, grid)
    figure = plt.figure(figsize=(9, 4))
    left, right = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    stretched = (cls_map - cls_map.min()) / (cls_map.max() - cls_map.min())
    left.matshow(stretched.numpy(), cmap="magma")
    right.pcolormesh((full_map / full_map.max()).numpy(), cmap="magma")
    right.invert_yaxis()
    figure.savefig(out_path)
    return figure, cls_map, full_map
