"""Correct, differently: DPO loss as softplus(-z) with rewards computed under no_grad for the reference."""
TARGET = "ex5_papers.py"
PASSES = ["checks/test_ex5.py::test_dpo_loss_closed_formula", "checks/test_ex5.py::test_dpo_loss_is_finite_for_large_margins",
          "checks/test_ex5.py::test_dpo_gradient_reaches_the_policy_only"]


def dpo_loss(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps, reference_rejected_logps, *, beta=0.1):
    with torch.no_grad():
        reference_margin = reference_chosen_logps - reference_rejected_logps
    logits = (policy_chosen_logps - policy_rejected_logps) - reference_margin
    return F.softplus(-beta * logits).sum() / logits.numel()
