"""Reference log-probs used as they come: a gradient flows into the frozen reference."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_dpo_gradient_reaches_the_policy_only"]
REPLACE = [("    chosen = policy_chosen_logps - reference_chosen_logps.detach()\n"
            "    rejected = policy_rejected_logps - reference_rejected_logps.detach()\n",
            "    chosen = policy_chosen_logps - reference_chosen_logps\n"
            "    rejected = policy_rejected_logps - reference_rejected_logps\n")]
