# -*- coding: latin-1 -*-
s = "é"
print "py2"
