-- Failed-login counts now live in the kernel's agora.throttles (scoped by tenant id).
DROP TABLE login_throttle;
