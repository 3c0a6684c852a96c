# resident
