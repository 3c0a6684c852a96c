# notify
