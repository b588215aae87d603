; SPDX-License-Identifier: GPL-2.0-or-later
;
; Busy disk: a raw hard-disk image whose boot sector keeps its virtual CPU
; and its disk busy for about three seconds, then idles - for the
; accounting tests (IVMAccountant: CPUUtilization and its history,
; DiskBytesRead/DiskBytesWritten):
;
;   VSA-BUSY-START              on COM1 when it begins
;   (INT 13h AH=02h reads of 8 sectors, CHS 0/0/2-9, without pause,
;    until 55 BIOS ticks (3 s of virtual time) have passed)
;   one INT 13h AH=03h write of 1 sector (sector 2, written back as read)
;   VSA-BUSY-DONE <reads>       the number of 8-sector reads that succeeded
;
; then HLT with interrupts on forever (a test turns the VM off). So the
; worker uses a whole host processor for ~3 s, the guest read at least
; <reads> x 4096 bytes besides the boot sector, and wrote 512. A failed
; disk call prints "VSA-BUSY-FAIL" and idles.
;
; Image: 2 cylinders x 16 heads x 63 sectors, like counter_disk.img.

bits 16
org 7C00h

%include "com1.asm"

TICKS   equ 46Ch                        ; BIOS data area: timer ticks since midnight
BUSY_TICKS equ 55                       ; 18.2 Hz: about 3 seconds
BUFFER  equ 8000h
DISK_SECTORS equ 2 * 16 * 63

start:
        jmp 0:main                      ; some BIOSes enter at 07C0:0000
main:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 7C00h
        cld
        mov [drive], dl                 ; the BIOS passes the boot drive
        com1_init
        sti
        mov si, started
        call puts
        mov eax, [TICKS]
        mov [first_tick], eax

.read:  mov ax, 0208h                   ; read 8 sectors
        call disk_io
        jc fail
        inc dword [reads]
        mov eax, [TICKS]
        sub eax, [first_tick]
        cmp eax, BUSY_TICKS
        jb .read

        mov ax, 0301h                   ; write sector 2 back as it was read
        call disk_io
        jc fail
        mov si, done
        call puts
        mov eax, [reads]
        call put_decimal
        mov al, 10
        call putc
idle:   hlt
        jmp idle

fail:   mov si, failed
        call puts
        jmp idle

; disk_io: INT 13h function AX on cylinder 0, head 0, from sector 2, to or
; from BUFFER. Carry set on failure.
disk_io:
        mov cx, 0002h
        xor dh, dh
        mov dl, [drive]
        mov bx, BUFFER
        int 13h
        ret

; putc, puts, put_decimal (com1.asm).
        com1_decimal_routines

started: db `VSA-BUSY-START\n`, 0
done:   db "VSA-BUSY-DONE ", 0
failed: db `VSA-BUSY-FAIL\n`, 0
drive:  db 80h
        align 4
first_tick: dd 0
reads:  dd 0

        times 510 - ($ - $$) db 0
        dw 0AA55h
        times DISK_SECTORS * 512 - ($ - $$) db 0
