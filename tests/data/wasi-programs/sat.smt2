; 8-bit factors of 27 other than 1: satisfiable (x * y wraps modulo 256).
(set-logic QF_BV)
(declare-fun x () (_ BitVec 8))
(declare-fun y () (_ BitVec 8))
(assert (= (bvmul x y) #x1b))
(assert (bvugt x #x01))
(assert (bvugt y #x01))
(check-sat)
