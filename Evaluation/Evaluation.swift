// Metrics under named protocols, boundary-condition search and table reproduction
// (issues #4 and later). Built on ECDP.
@_exported import ECDP
