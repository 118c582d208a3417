; x < 5 and x > 9: unsatisfiable.
(set-logic QF_BV)
(declare-fun x () (_ BitVec 8))
(assert (bvult x #x05))
(assert (bvugt x #x09))
(check-sat)
