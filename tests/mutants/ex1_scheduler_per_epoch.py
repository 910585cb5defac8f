"""Steps the per-batch OneCycle schedule once per epoch: the learning rate barely leaves its starting value
(lr / 25). Its 20-epoch model reads 97.95 % of the test digits, just under the floor."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_train_steps_the_schedule_every_batch"]
SAYS = ["once per epoch"]
REPLACE = [("            optimizer.step()\n            schedule.step()\n", "            optimizer.step()\n"),
           ("        val_loss, val_acc = evaluate(model, val_loader)\n",
            "        schedule.step()\n        val_loss, val_acc = evaluate(model, val_loader)\n")]
