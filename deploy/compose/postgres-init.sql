-- The two Bosetting stores; Temporal's auto-setup creates its own (temporal, temporal_visibility).
CREATE DATABASE bosetting_register;
CREATE DATABASE bosetting_projection;
