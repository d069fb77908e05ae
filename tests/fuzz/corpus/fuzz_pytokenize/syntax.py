match x:
    case [1, *rest] if rest:
        pass
type T = int
x = 0x_1f + 1_0.5e-3j
if a: import b; import c
	pass
