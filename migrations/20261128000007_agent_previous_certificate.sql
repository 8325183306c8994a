-- A renewal whose answer never reached the agent (the link dropped mid-response) must not lock
-- the agent out: the certificate a renewal replaced stays usable until the agent first uses
-- the new one, or until it expires (the listener refuses an expired certificate in the TLS
-- handshake). A renewal presented with it again replaces the lost certificate. An enrollment
-- clears it: a re-enrolled agent is a new box, and the old box's certificate stops working.
alter table agent add column previous_certificate_sha256 bytea unique
    check (length(previous_certificate_sha256) = 32);
