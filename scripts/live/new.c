/* request.c - does a request fit the 64-byte buffer, with its NUL? */
#define BUF_SIZE 64

int request_fits(unsigned long len)
{
	return len < BUF_SIZE;	/* the NUL needs the last byte */
}
