"""Operations: the health checks that monitoring and load balancers call (/livez, /healthz)."""
