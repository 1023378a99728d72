"""Behaviour prompts (ABO), one module per concern:

    procedure      the optimizer's numbered steps, the checks that they can guide the target, the text it is told
    demonstration  the worked example's checks, and whether the target copies its answer
    steps          the target's step-labelled output and its adherence to the procedure
    refinement     the failing step replaced by finer sub-steps
    replies        the optimizer's replies as JSON held to a schema, read back as text (abo_replies=json)
    figures        per-candidate figures for result.json
"""

from behavopt.optimizers.behavior.demonstration import (
                                                        clean_demo,
                                                        copied_demo_answer,
                                                        demo_answer_shares,
                                                        demo_length_problem,
                                                        demo_problem,
)
from behavopt.optimizers.behavior.figures import BehaviorFigures, behavior_figures
from behavopt.optimizers.behavior.procedure import (
                                                        Procedure,
                                                        parse_procedure,
                                                        procedure_problem,
                                                        procedure_text,
)
from behavopt.optimizers.behavior.refinement import (
                                                        MAX_SUB_STEPS,
                                                        bullets_under_step,
                                                        lettered_sub_steps,
                                                        splice_refinement,
                                                        sub_steps_of,
                                                        without_other_steps,
)
from behavopt.optimizers.behavior.steps import (
                                                        Adherence,
                                                        StepOutput,
                                                        adherence,
                                                        parse_step_output,
                                                        step_table,
                                                        written_when_right,
)

__all__ = ["Adherence", "BehaviorFigures", "MAX_SUB_STEPS", "Procedure", "StepOutput", "adherence",
           "behavior_figures", "bullets_under_step", "clean_demo", "copied_demo_answer", "demo_answer_shares",
           "demo_length_problem", "demo_problem", "lettered_sub_steps", "parse_procedure", "parse_step_output",
           "procedure_problem", "procedure_text", "splice_refinement", "step_table", "sub_steps_of",
           "without_other_steps", "written_when_right"]
