# Filled in by the packaging issue; kept so the top-level CMakeLists need not change then.
