"""Operations: logging, middleware, outage handling, probes."""
