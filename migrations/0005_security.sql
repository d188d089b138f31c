-- Sign-in and auto-lock settings (issue 8). The lockout pair is also copied into the registry's
-- key file, because sign-in is checked before the registry can be decrypted.
INSERT INTO settings (key, value) VALUES
    ('lockout_attempts', '5'),      -- wrong passwords in a row that lock an account
    ('lockout_minutes', '15'),      -- how long a locked account stays locked
    ('auto_lock_minutes', '10');    -- the app locks after this long without input
