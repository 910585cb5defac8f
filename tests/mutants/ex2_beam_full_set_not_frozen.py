"""With early_stopping=True, a row whose finished set is full still accepts better hypotheses while other rows run on."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_tier2_eos_penalty_batches"]
REPLACE = [("new_scores = new_scores + (full | ~can_improve | ~just_finished).float() * neg",
            "new_scores = new_scores + (~can_improve | ~just_finished).float() * neg")]
